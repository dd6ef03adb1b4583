{#-
    The aggregate columns shared by the mv_* summaries of match_stats (one definition each):
    matches, outcomes, win_rate = wins / matches, totals, kd_ratio over the totals, averages.
    Use inside a select that groups match_stats rows.
-#}
{% macro match_summary_columns() -%}
        count(*) as matches,
        cast(sum(case when outcome = 2 then 1 else 0 end) as bigint) as wins,
        cast(sum(case when outcome = 3 then 1 else 0 end) as bigint) as losses,
        cast(sum(case when outcome = 1 then 1 else 0 end) as bigint) as ties,
        cast(sum(case when outcome = 4 then 1 else 0 end) as bigint) as did_not_finish,
        {{ safe_ratio('sum(case when outcome = 2 then 1 else 0 end)', 'count(*)') }} as win_rate,
        cast(sum(kills) as bigint) as kills,
        cast(sum(deaths) as bigint) as deaths,
        cast(sum(assists) as bigint) as assists,
        {{ kd_ratio('sum(kills)', 'sum(deaths)') }} as kd_ratio,
        avg(kda) as avg_kda,
        avg(accuracy) as avg_accuracy,
        avg(performance_score) as avg_performance_score,
        sum(time_played_s) as time_played_s,
        min(start_time) as first_played_at,
        max(start_time) as last_played_at
{%- endmacro %}
