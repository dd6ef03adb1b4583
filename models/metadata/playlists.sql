with latest_assets as (

    select * from {{ ref('int_ugc_assets_latest') }}

),

playlist_translations as (

    select * from {{ source('reference', 'playlist_translations') }}

),

playlist_assets as (

    select * from latest_assets where asset_kind = 'playlist'

),

from_assets as (

    select
        playlist_assets.asset_id,
        playlist_assets.version_id,
        playlist_assets.public_name as name,
        playlist_translations.name_fr,
        playlist_assets.description,
        playlist_assets.is_ranked,
        'ugc_asset' as name_source
    from playlist_assets
    left join playlist_translations on playlist_translations.asset_id = playlist_assets.asset_id

),

-- playlists only the translation file knows: their names are still worth having
from_translations_only as (

    select
        playlist_translations.asset_id,
        cast(null as varchar) as version_id,
        playlist_translations.name_en as name,
        playlist_translations.name_fr,
        cast(null as varchar) as description,
        lower(playlist_translations.name_en) like 'ranked%' as is_ranked,
        'translations' as name_source
    from playlist_translations
    where playlist_translations.asset_id not in (select asset_id from playlist_assets)

),

unioned as (

    select * from from_assets
    union all
    select * from from_translations_only

)

select
    cast(asset_id as varchar) as asset_id,
    cast(version_id as varchar) as version_id,
    cast(name as varchar) as name,
    cast(name_fr as varchar) as name_fr,
    cast(description as varchar) as description,
    cast(is_ranked as boolean) as is_ranked,
    cast(name_source as varchar) as name_source
from unioned
