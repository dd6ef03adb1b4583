{{ config(materialized='halo_view') }}

-- One row per (asset kind, asset id): the version of the newest file that carries it.
-- A document of the asset itself beats a copy embedded in another asset of the same file age.

with ugc_assets as (

    select * from {{ source('reference', 'ugc_assets') }}

),

ranked as (

    select
        asset_kind,
        asset_id,
        version_id,
        public_name,
        description,
        is_ranked,
        is_embedded,
        source_doc_id,
        source_mtime,
        row_number() over (
            partition by asset_kind, asset_id
            order by source_mtime desc, is_embedded asc, loaded_at desc, version_id desc
        ) as version_rank
    from ugc_assets

)

select
    asset_kind,
    asset_id,
    version_id,
    public_name,
    description,
    is_ranked,
    is_embedded,
    source_doc_id,
    source_mtime
from ranked
where version_rank = 1
