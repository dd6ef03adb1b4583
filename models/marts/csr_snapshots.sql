-- One row per playlist CSR response loaded: the owner's current, season-max and all-time-max CSR in a playlist at
-- that time (the other players' entries of the same response are left out).
with

owner as (
    select * from {{ ref('stg_halo__owner') }}
),

snapshots as (
    select * from {{ ref('stg_halo__playlist_csr_snapshots') }}
),

playlists as (
    select
        playlist_asset_id,
        any_value(playlist_name) as playlist_name
    from {{ ref('stg_meta__playlists') }}
    group by playlist_asset_id
),

final as (
    select
        owner.xuid as owner_xuid,
        snapshots.snapshot_id,
        snapshots.playlist_asset_id,
        playlists.playlist_name,
        snapshots.observed_at,
        snapshots.observed_at_source,
        snapshots.result_code,
        snapshots.current_csr,
        snapshots.current_tier,
        snapshots.current_sub_tier,
        snapshots.current_tier_start,
        snapshots.current_measurement_matches_remaining,
        snapshots.season_max_csr,
        snapshots.season_max_tier,
        snapshots.season_max_sub_tier,
        snapshots.all_time_max_csr,
        snapshots.all_time_max_tier,
        snapshots.all_time_max_sub_tier
    from snapshots
    inner join owner
        -- the owner's own entry of the owner's own response (another tracked player's entry in it is not theirs)
        on owner.xuid = snapshots.xuid
        and owner.xuid = coalesce(snapshots.owner_xuid, snapshots.xuid)
    left join playlists
        on playlists.playlist_asset_id = snapshots.playlist_asset_id
)

select * from final
