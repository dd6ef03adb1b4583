with latest_assets as (

    select * from {{ ref('int_ugc_assets_latest') }}

),

mode_translations as (

    select * from {{ source('reference', 'mode_translations') }}

),

category_translations as (

    select * from {{ source('reference', 'category_translations') }}

),

map_mode_pairs as (

    select * from latest_assets where asset_kind = 'map_mode_pair'

),

categorised as (

    select
        map_mode_pairs.asset_id,
        map_mode_pairs.version_id,
        map_mode_pairs.public_name as name,
        mode_translations.name_fr,
        map_mode_pairs.description,
        -- the translation file's category, else the name's prefix (`Ranked:Slayer on Streets` -> `Ranked`)
        coalesce(
            mode_translations.category,
            case
                when {{ dbt.position("':'", 'map_mode_pairs.public_name') }} > 0
                    then {{ dbt.split_part('map_mode_pairs.public_name', "':'", 1) }}
            end
        ) as mode_category
    from map_mode_pairs
    left join mode_translations on mode_translations.name_en = map_mode_pairs.public_name

)

select
    cast(categorised.asset_id as varchar) as asset_id,
    cast(categorised.version_id as varchar) as version_id,
    cast(categorised.name as varchar) as name,
    cast(categorised.name_fr as varchar) as name_fr,
    cast(categorised.description as varchar) as description,
    cast(categorised.mode_category as varchar) as mode_category,
    cast(category_translations.category_fr as varchar) as mode_category_fr
from categorised
left join category_translations on category_translations.category = categorised.mode_category
