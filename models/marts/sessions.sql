-- One row per owner and play session (matches less than 120 minutes apart), with what happened in it.
with

matches as (
    select * from {{ ref('match_stats') }}
),

aggregated as (
    select
        owner_xuid,
        session_id,
        min(start_time) as started_at,
        max(end_time) as ended_at,
        {{ match_summary_columns() }},
        cast(sum(case when post_match_csr is not null and pre_match_csr is not null
                 then post_match_csr - pre_match_csr end) as bigint) as csr_change
    from matches
    group by owner_xuid, session_id
),

final as (
    select
        owner_xuid,
        session_id,
        started_at,
        ended_at,
        {{ dbt.datediff('started_at', 'ended_at', 'millisecond') }} / 1000.0 as duration_s,
        matches,
        wins,
        losses,
        ties,
        did_not_finish,
        win_rate,
        kills,
        deaths,
        assists,
        kd_ratio,
        avg_kda,
        avg_accuracy,
        time_played_s,
        avg_performance_score,
        csr_change
    from aggregated
)

select * from final
