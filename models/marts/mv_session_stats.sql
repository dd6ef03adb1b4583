-- Each owner's sessions in one row per experience: how many, how long, how many matches, the best and worst.
with

sessions as (
    select * from {{ ref('sessions') }}
),

ranked as (
    select
        owner_xuid,
        experience,
        session_id,
        kd_ratio,
        row_number() over (partition by owner_xuid, experience order by kd_ratio desc, started_at) as best_rank,
        row_number() over (partition by owner_xuid, experience order by kd_ratio asc, started_at) as worst_rank
    from sessions
),

aggregated as (
    select
        owner_xuid,
        experience,
        count(*) as sessions,
        cast(sum(matches) as bigint) as matches,
        avg(cast(matches as {{ type_double() }})) as avg_matches_per_session,
        max(matches) as max_matches_in_session,
        avg(duration_s) as avg_session_duration_s,
        max(duration_s) as longest_session_s,
        avg(win_rate) as avg_session_win_rate,
        avg(kd_ratio) as avg_session_kd_ratio,
        min(started_at) as first_session_at,
        max(started_at) as last_session_at
    from sessions
    group by owner_xuid, experience
),

final as (
    select
        aggregated.owner_xuid,
        aggregated.experience,
        aggregated.sessions,
        aggregated.matches,
        aggregated.avg_matches_per_session,
        aggregated.max_matches_in_session,
        aggregated.avg_session_duration_s,
        aggregated.longest_session_s,
        aggregated.avg_session_win_rate,
        aggregated.avg_session_kd_ratio,
        best.session_id as best_session_id,
        worst.session_id as worst_session_id,
        aggregated.first_session_at,
        aggregated.last_session_at
    from aggregated
    left join ranked as best
        on best.owner_xuid = aggregated.owner_xuid
        and best.experience = aggregated.experience
        and best.best_rank = 1
    left join ranked as worst
        on worst.owner_xuid = aggregated.owner_xuid
        and worst.experience = aggregated.experience
        and worst.worst_rank = 1
)

select * from final
