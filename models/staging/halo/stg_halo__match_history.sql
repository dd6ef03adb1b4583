with

source as (
    select * from {{ source('halo', 'match_history') }}
),

renamed as (
    select
        ----------  ids
        {{ owner_xuid_column() }} as owner_xuid,
        match_id,
        history_doc_id,
        playlist_asset_id,
        map_asset_id,
        game_variant_asset_id,
        last_team_id as team_id,
        ----------  strings
        season_id as season_path,
        ----------  codes
        game_variant_category,
        outcome,
        rank,
        ----------  booleans
        present_at_end_of_match,
        ----------  timestamps
        start_time,
        end_time
    from source
)

select * from renamed
