with track as (

    select * from {{ source('reference', 'career_ranks') }}

),

accumulated as (

    select
        rank,
        title,
        subtitle,
        tier,
        tier_type,
        grade,
        xp_required,
        -- XP earned in all lower ranks: what it takes to reach this rank from rank 1 (0 for rank 1)
        coalesce(sum(xp_required) over (
            order by rank rows between unbounded preceding and 1 preceding
        ), 0) as cumulative_xp,
        rank = max(rank) over () as is_max_rank,
        icon_path
    from track

)

select
    cast(rank as integer) as rank,
    cast(title as varchar) as title,
    cast(nullif(subtitle, '') as varchar) as subtitle,
    cast(nullif(tier, '') as varchar) as tier,
    cast(tier_type as varchar) as tier_type,
    cast(grade as integer) as grade,
    cast(xp_required as bigint) as xp_required,
    cast(cumulative_xp as bigint) as cumulative_xp,
    cast(is_max_rank as boolean) as is_max_rank,
    cast(icon_path as varchar) as icon_path
from accumulated
