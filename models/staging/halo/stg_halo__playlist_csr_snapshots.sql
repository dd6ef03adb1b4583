with

source as (
    select * from {{ source('halo', 'playlist_csr_snapshots') }}
),

renamed as (
    select
        ----------  ids
        {{ owner_xuid_column() }} as owner_xuid,
        snapshot_id,
        playlist_asset_id,
        player_id,
        xuid,
        ----------  strings
        observed_at_source,
        current_tier,
        season_max_tier,
        all_time_max_tier,
        ----------  numerics
        result_code,
        current_csr,
        current_sub_tier,
        current_tier_start,
        current_measurement_matches_remaining,
        season_max_csr,
        season_max_sub_tier,
        season_max_tier_start,
        season_max_measurement_matches_remaining,
        all_time_max_csr,
        all_time_max_sub_tier,
        all_time_max_tier_start,
        all_time_max_measurement_matches_remaining,
        ----------  timestamps
        observed_at
    from source
)

select * from renamed
