-- One row per owner, play session (matches less than 120 minutes apart) and experience (pvp_matchmade, pvp_custom,
-- pve), with what happened in it. csr_change: the CSR won or lost over the session's ranked matches when they were
-- all in one playlist, null when they were in several (CSR is per playlist: changes are never summed across them).
with

matches as (
    select * from {{ ref('match_stats') }}
),

aggregated as (
    select
        owner_xuid,
        session_id,
        experience,
        min(start_time) as started_at,
        max(end_time) as ended_at,
        {{ match_summary_columns() }},
        count(distinct case when post_match_csr is not null and pre_match_csr is not null
                       then playlist_asset_id end) as csr_playlists,
        max(case when post_match_csr is not null and pre_match_csr is not null then playlist_asset_id end)
            as csr_playlist_asset_id,
        cast(sum(case when post_match_csr is not null and pre_match_csr is not null
                 then post_match_csr - pre_match_csr end) as bigint) as csr_change_all_playlists
    from matches
    group by owner_xuid, session_id, experience
),

final as (
    select
        owner_xuid,
        session_id,
        experience,
        started_at,
        ended_at,
        -- a double on every engine (1000.0 is a DECIMAL literal: Spark would make the quotient a decimal)
        cast({{ dbt.datediff('started_at', 'ended_at', 'millisecond') }} as {{ type_double() }}) / 1000 as duration_s,
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
        case when csr_playlists = 1 then csr_playlist_asset_id end as csr_playlist_asset_id,
        case when csr_playlists = 1 then csr_change_all_playlists end as csr_change
    from aggregated
)

select * from final
