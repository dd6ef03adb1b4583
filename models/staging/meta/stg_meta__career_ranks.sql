with

source as (
    select * from {{ source('meta', 'career_ranks') }}
),

renamed as (
    select
        ----------  ids
        rank,
        ----------  strings
        title,
        subtitle,
        tier,
        tier_type,
        grade,
        ----------  numerics
        xp_required,
        cumulative_xp,
        ----------  booleans
        is_max_rank
    from source
)

select * from renamed
