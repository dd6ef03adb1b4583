-- One row per play session (matches less than 120 minutes apart), with what happened in it.
with

matches as (
    select * from {{ ref('match_stats') }}
),

aggregated as (
    select
        session_id,
        min(start_time) as started_at,
        max(end_time) as ended_at,
        count(*) as matches,
        cast(sum(case when outcome = 2 then 1 else 0 end) as bigint) as wins,
        cast(sum(case when outcome = 3 then 1 else 0 end) as bigint) as losses,
        cast(sum(case when outcome = 1 then 1 else 0 end) as bigint) as ties,
        cast(sum(case when outcome = 4 then 1 else 0 end) as bigint) as did_not_finish,
        cast(sum(kills) as bigint) as kills,
        cast(sum(deaths) as bigint) as deaths,
        cast(sum(assists) as bigint) as assists,
        avg(kda) as avg_kda,
        avg(accuracy) as avg_accuracy,
        sum(time_played_s) as time_played_s,
        avg(performance_score) as avg_performance_score,
        cast(sum(case when post_match_csr is not null and pre_match_csr is not null
                 then post_match_csr - pre_match_csr end) as bigint) as csr_change
    from matches
    group by session_id
),

final as (
    select
        session_id,
        started_at,
        ended_at,
        {{ dbt.datediff('started_at', 'ended_at', 'millisecond') }} / 1000.0 as duration_s,
        matches,
        wins,
        losses,
        ties,
        did_not_finish,
        {{ safe_ratio('wins', 'matches') }} as win_rate,
        kills,
        deaths,
        assists,
        {{ kd_ratio('kills', 'deaths') }} as kd_ratio,
        avg_kda,
        avg_accuracy,
        time_played_s,
        avg_performance_score,
        csr_change
    from aggregated
)

select * from final
