with

source as (
    select * from {{ source('halo', 'matches') }}
),

renamed as (
    select
        ----------  ids
        match_id,
        playlist_asset_id,
        playlist_version_id,
        map_asset_id,
        map_version_id,
        game_variant_asset_id,
        game_variant_version_id,
        map_mode_pair_asset_id,
        map_mode_pair_version_id,
        level_id,
        clearance_id,
        ----------  strings
        season_id as season_path,
        -- 'Csr/Seasons/CsrSeason9-1.json' -> 'CsrSeason9-1' ([.]: no backslash, Spark SQL unescapes it in literals)
        nullif(regexp_replace(regexp_replace(season_id, '^.*/', ''), '[.]json$', ''), '') as csr_season_key,
        ----------  codes
        lifecycle_mode,
        game_variant_category,
        playlist_experience,
        gameplay_interaction,
        -- pvp_matchmade / pvp_custom / pve (docs/definitions.md#experience)
        {{ match_experience('gameplay_interaction', 'playlist_experience', 'game_variant_category', 'playlist_asset_id') }} as experience,
        ----------  numerics
        duration_s,
        playable_duration_s,
        team_count,
        player_count,
        human_count,
        ----------  booleans
        teams_enabled,
        team_scoring_enabled,
        ----------  timestamps
        start_time,
        end_time,
        loaded_at
    from source
)

select * from renamed
