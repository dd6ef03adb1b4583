with

source as (
    select * from {{ source('halo', 'career_rank_snapshots') }}
),

renamed as (
    select
        ----------  ids
        {{ owner_xuid_column() }} as owner_xuid,
        snapshot_id,
        spartan_id,
        ----------  strings
        observed_at_source,
        ----------  numerics
        rank,
        partial_progress as xp_in_rank,
        ----------  booleans
        has_reached_max_rank,
        ----------  timestamps
        observed_at
    from source
)

select * from renamed
