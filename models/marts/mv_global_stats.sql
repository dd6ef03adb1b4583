-- Each owner's whole loaded history, one row per experience (pvp_matchmade, pvp_custom, pve; an owner without
-- matches: one row, experience null).
with

owners as (
    select * from {{ ref('tracked_players') }}
),

matches as (
    select * from {{ ref('match_stats') }}
),

medals as (
    select * from {{ ref('medals_earned') }}
),

sessions as (
    select * from {{ ref('sessions') }}
),

match_totals as (
    select
        owner_xuid,
        experience,
        {{ match_summary_columns() }},
        cast(sum(case when is_ranked then 1 else 0 end) as bigint) as ranked_matches,
        max(post_match_csr) as max_csr
    from matches
    group by owner_xuid, experience
),

medal_totals as (
    select matches.owner_xuid, matches.experience, cast(sum(medals.count) as bigint) as medals_earned
    from medals
    inner join matches
        on matches.owner_xuid = medals.owner_xuid
        and matches.match_id = medals.match_id
    group by matches.owner_xuid, matches.experience
),

session_totals as (
    select owner_xuid, experience, count(*) as sessions
    from sessions
    group by owner_xuid, experience
),

final as (
    select
        owners.owner_xuid,
        match_totals.experience,
        owners.gamertag,
        coalesce(match_totals.matches, 0) as matches,
        match_totals.wins,
        match_totals.losses,
        match_totals.ties,
        match_totals.did_not_finish,
        match_totals.win_rate,
        match_totals.kills,
        match_totals.deaths,
        match_totals.assists,
        match_totals.kd_ratio,
        match_totals.avg_kda,
        match_totals.avg_accuracy,
        match_totals.avg_performance_score,
        match_totals.time_played_s,
        match_totals.ranked_matches,
        match_totals.max_csr,
        coalesce(medal_totals.medals_earned, 0) as medals_earned,
        coalesce(session_totals.sessions, 0) as sessions,
        match_totals.first_played_at,
        match_totals.last_played_at
    from owners
    left join match_totals
        on match_totals.owner_xuid = owners.owner_xuid
    left join medal_totals
        on medal_totals.owner_xuid = match_totals.owner_xuid
        and medal_totals.experience = match_totals.experience
    left join session_totals
        on session_totals.owner_xuid = match_totals.owner_xuid
        and session_totals.experience = match_totals.experience
)

select * from final
