with

source as (
    select * from {{ source('meta', 'game_variants') }}
),

renamed as (
    select
        ----------  ids
        asset_id as game_variant_asset_id,
        version_id as game_variant_version_id,
        ----------  strings
        name as game_variant_name
    from source
)

select * from renamed
