with

source as (
    select * from {{ source('meta', 'playlists') }}
),

renamed as (
    select
        ----------  ids
        asset_id as playlist_asset_id,
        version_id as playlist_version_id,
        ----------  strings
        name as playlist_name,
        name_fr as playlist_name_fr,
        ----------  booleans
        is_ranked
    from source
)

select * from renamed
