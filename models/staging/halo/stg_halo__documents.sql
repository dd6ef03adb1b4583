with

source as (
    select * from {{ source('halo', 'documents') }}
),

renamed as (
    -- the document bodies stay in raw; staging only needs what was loaded and when
    select
        ----------  ids
        {{ owner_xuid_column() }} as owner_xuid,
        kind,
        doc_id,
        match_id,
        ----------  strings
        source_path,
        sha256,
        ----------  numerics
        byte_size,
        ----------  timestamps
        source_mtime,
        loaded_at
    from source
)

select * from renamed
