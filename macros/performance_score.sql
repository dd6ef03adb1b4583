{#-
    performance_score (docs/definitions.md#performance_score): its one definition, in this file. The metrics
    (performance_metric_columns), the weights, the weighting (performance_score_from_shares) and the shares:
      - full build: performance_score_ctes (below) over every enriched match, inside match_stats' query (the
        enriched rows read once); int_owner_matches_scored is the same macro as a view; the shares from
        performance_shares (DuckDB: framed windows, O(n log n); other engines: performance_shares_against_earlier
        over the whole history);
      - update: match_stats, for the rewritten matches only, performance_shares_against_earlier against the stored
        earlier matches (above var performance_score_join_limit rewritten matches: int_owner_matches_scored, the
        full-build path over the whole history).
    Both share computations give the same numbers (tests/test_marts.py, the backfill paths against the update path).
-#}
{% macro performance_score_weights() -%}
    {{ return({
        'kills_per_min': 0.22,
        'deaths_per_min': 0.18,
        'assists_per_min': 0.10,
        'kda': 0.15,
        'accuracy': 0.08,
        'personal_score_per_min': 0.12,
        'damage_dealt_per_min': 0.10,
        'rank_vs_expected': 0.05,
    }) }}
{%- endmacro %}

{#- metrics where a higher value is worse: share of earlier matches whose value is >= this one -#}
{% macro performance_score_higher_is_worse() -%}
    {{ return(['deaths_per_min']) }}
{%- endmacro %}

{#- The per-match metrics, from columns kills, deaths, assists, kda, accuracy, personal_score, damage_dealt,
    time_played_s, team_mmr, enemy_mmr, rank, player_count. "rank vs expected" = expected rank - rank;
    expected rank only where skill data has both MMRs: p_win = 1 / (1 + 10^((enemy_mmr - team_mmr) / 400)),
    expected_rank = 1 + (player_count - 1) * (1 - p_win). -#}
{% macro performance_metric_columns() -%}
        {{ safe_ratio('kills * 60', 'time_played_s') }} as kills_per_min,
        {{ safe_ratio('deaths * 60', 'time_played_s') }} as deaths_per_min,
        {{ safe_ratio('assists * 60', 'time_played_s') }} as assists_per_min,
        kda,
        accuracy,
        {{ safe_ratio('personal_score * 60', 'time_played_s') }} as personal_score_per_min,
        {{ safe_ratio('damage_dealt * 60', 'time_played_s') }} as damage_dealt_per_min,
        case
            when team_mmr is not null and enemy_mmr is not null and rank is not null then
                1 + (player_count - 1)
                    * (1 - 1 / (1 + power(10, (enemy_mmr - team_mmr) / 400.0)))
                - rank
        end as rank_vs_expected
{%- endmacro %}

{#- From columns earlier_matches and <metric>_share (0-1, null = the metric drops out): the weighted score,
    weights re-normalised over the metrics present; null with fewer than 10 earlier matches. -#}
{% macro performance_score_from_shares() -%}
    {%- set weights = performance_score_weights() -%}
    case
        when earlier_matches >= 10 and (
            {%- for metric, weight in weights.items() %}
            case when {{ metric }}_share is null then 0 else {{ weight }} end{{ ' +' if not loop.last }}
            {%- endfor %}
        ) > 0 then round(100 * (
            {%- for metric, weight in weights.items() %}
            coalesce({{ metric }}_share * {{ weight }}, 0){{ ' +' if not loop.last }}
            {%- endfor %}
        ) / (
            {%- for metric, weight in weights.items() %}
            case when {{ metric }}_share is null then 0 else {{ weight }} end{{ ' +' if not loop.last }}
            {%- endfor %}
        ), 2)
    end
{%- endmacro %}

{#- The shares of the rows of `scored` (owner_xuid, match_id, start_time, metric columns) against the rows of
    `history` (the same columns; every match of the owners, `scored` ones included): per metric, the share of the
    same owner's earlier matches (start_time, then match_id) with a value whose value is <= this one (>= for higher_is_worse); null
    when this match lacks the metric or no earlier match has it. earlier_matches counts every earlier match.
    The same numbers as share_of_earlier_at_or_below's windows (integer counts, one division). A join of
    scored x earlier history rows: for the few matches of an update, not for a whole history. -#}
{% macro performance_shares_against_earlier(scored, history) -%}
    {%- set higher_is_worse = performance_score_higher_is_worse() -%}
    select
        scored.owner_xuid,
        scored.match_id,
        count(history.match_id) as earlier_matches,
        {%- for metric in performance_score_weights() %}
        {%- set op = '>=' if metric in higher_is_worse else '<=' %}
        case
            when max(scored.{{ metric }}) is null or count(history.{{ metric }}) = 0 then null
            else cast(sum(case when history.{{ metric }} {{ op }} scored.{{ metric }} then 1 else 0 end)
                      as {{ type_double() }})
                / count(history.{{ metric }})
        end as {{ metric }}_share{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ scored }} as scored
    left join {{ history }} as history
        on history.owner_xuid = scored.owner_xuid
        and (history.start_time < scored.start_time
             or (history.start_time = scored.start_time and history.match_id < scored.match_id))
    group by scored.owner_xuid, scored.match_id
{%- endmacro %}

{#- The shares of every row of `metrics` (owner_xuid, match_id, start_time, the metric columns) against the same
    owner's earlier rows: owner_xuid, match_id, earlier_matches, <metric>_share (macros/performance_score.sql). -#}
{% macro performance_shares(metrics) -%}
    {{ return(adapter.dispatch('performance_shares')(metrics)) }}
{%- endmacro %}

{#- DuckDB: framed windows, O(n log n) (share_of_earlier_at_or_below below). -#}
{% macro duckdb__performance_shares(metrics) -%}
    {%- set higher_is_worse = performance_score_higher_is_worse() -%}
    {%- set match_order = 'start_time, match_id' -%}
    select
        owner_xuid,
        match_id,
        count(*) over (partition by owner_xuid order by {{ match_order }} rows between unbounded preceding and 1 preceding)
            as earlier_matches,
        {%- for metric in performance_score_weights() %}
        {{ share_of_earlier_at_or_below(metric, 'owner_xuid', match_order, metric in higher_is_worse) }} as {{ metric }}_share
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ metrics }}
{%- endmacro %}

{#- ANSI (Spark SQL has no framed ranking windows): the self-join on earlier matches of the incremental path,
    O(n^2), the same numbers. -#}
{% macro default__performance_shares(metrics) -%}
    {{ performance_shares_against_earlier(metrics, metrics) }}
{%- endmacro %}

{#- CTEs (for a WITH list, no trailing comma) computing performance_score of every row of `matches` (a relation or
    CTE with owner_xuid, match_id, start_time and the columns of performance_metric_columns) against the same owner's
    earlier rows of `matches`: the last one, `name`, holds owner_xuid, match_id, earlier_matches, performance_score,
    one row per row of `matches`. The full-build path: the body of int_owner_matches_scored (over
    int_owner_matches_enriched) and of match_stats' full build (over the enriched rows it writes, which that query
    then reads once). -#}
{% macro performance_score_ctes(matches, name) -%}
{{ name }}_metrics as (
    select owner_xuid, match_id, start_time, {{ performance_metric_columns() }}
    from {{ matches }}
),

{{ name }}_shares as (
    {{ performance_shares(name ~ '_metrics') }}
),

{{ name }} as (
    select owner_xuid, match_id, earlier_matches, {{ performance_score_from_shares() }} as performance_score
    from {{ name }}_shares
)
{%- endmacro %}
