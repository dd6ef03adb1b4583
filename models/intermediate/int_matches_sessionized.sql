-- Play sessions of each owner: the owner's matches in start order; a gap of MORE than 120 minutes between one match's end
-- and the next match's start opens a new session (exactly 120 minutes stays in the same one).
-- session_id = match_id of the session's first match, so it is stable when older matches are added
-- later (a match's session depends only on the matches that started before it).
with

owner_players as (
    select * from {{ ref('int_owner_match_players') }}
),

matches as (
    select * from {{ ref('stg_halo__matches') }}
),

ordered as (
    select
        owner_players.owner_xuid,
        matches.match_id,
        matches.start_time,
        matches.end_time,
        lag(matches.end_time) over (
            partition by owner_players.owner_xuid order by matches.start_time, matches.match_id
        ) as previous_end_time
    from owner_players
    inner join matches
        on matches.match_id = owner_players.match_id
),

flagged as (
    select
        *,
        case
            when previous_end_time is null then 1
            when start_time > {{ dbt.dateadd('minute', var('session_gap_minutes', 120), 'previous_end_time') }} then 1
            else 0
        end as starts_session
    from ordered
),

numbered as (
    select
        *,
        sum(starts_session) over (
            partition by owner_xuid order by start_time, match_id rows between unbounded preceding and current row
        ) as session_number
    from flagged
),

final as (
    select
        owner_xuid,
        match_id,
        start_time,
        end_time,
        starts_session = 1 as is_session_start,
        first_value(match_id) over (
            partition by owner_xuid, session_number order by start_time, match_id
            rows between unbounded preceding and current row
        ) as session_id
    from numbered
)

select * from final
