-- The owner's whole loaded history in one row.
with

owner as (
    select * from {{ ref('stg_halo__owner') }}
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
        {{ match_summary_columns() }},
        cast(sum(case when is_ranked then 1 else 0 end) as bigint) as ranked_matches,
        max(post_match_csr) as max_csr
    from matches
),

medal_totals as (
    select coalesce(cast(sum(count) as bigint), 0) as medals_earned
    from medals
),

session_totals as (
    select count(*) as sessions
    from sessions
),

final as (
    select
        owner.xuid as owner_xuid,
        owner.gamertag,
        match_totals.matches,
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
        medal_totals.medals_earned,
        session_totals.sessions,
        match_totals.first_played_at,
        match_totals.last_played_at
    from owner
    cross join match_totals
    cross join medal_totals
    cross join session_totals
)

select * from final
