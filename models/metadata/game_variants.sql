with latest_assets as (

    select * from {{ ref('int_ugc_assets_latest') }}

)

select
    cast(asset_id as varchar) as asset_id,
    cast(version_id as varchar) as version_id,
    cast(public_name as varchar) as name,
    cast(description as varchar) as description
from latest_assets
where asset_kind = 'game_variant'
