with

source as (
    select * from {{ source('meta', 'map_mode_pairs') }}
),

renamed as (
    select
        ----------  ids
        asset_id as map_mode_pair_asset_id,
        version_id as map_mode_pair_version_id,
        ----------  strings
        name as map_mode_pair_name,
        name_fr as map_mode_pair_name_fr,
        mode_category
    from source
)

select * from renamed
