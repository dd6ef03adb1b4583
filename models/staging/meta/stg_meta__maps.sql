with

source as (
    select * from {{ source('meta', 'maps') }}
),

renamed as (
    select
        ----------  ids
        asset_id as map_asset_id,
        version_id as map_version_id,
        ----------  strings
        name as map_name
    from source
)

select * from renamed
