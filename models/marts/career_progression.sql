-- One row per observation of the owner's career rank, with the rank's title, tier and XP.
with

snapshots as (
    select * from {{ ref('stg_halo__career_rank_snapshots') }}
),

ranks as (
    select * from {{ ref('stg_meta__career_ranks') }}
),

final as (
    select
        snapshots.snapshot_id,
        snapshots.observed_at,
        snapshots.observed_at_source,
        snapshots.rank,
        ranks.title,
        ranks.subtitle,
        cast(ranks.tier as varchar) as tier,
        cast(ranks.grade as integer) as grade,
        snapshots.xp_in_rank,
        ranks.xp_required as xp_required_for_rank,
        -- XP of every rank completed before this one, plus the progress inside it
        ranks.cumulative_xp + snapshots.xp_in_rank as cumulative_xp,
        coalesce(snapshots.has_reached_max_rank, false) or coalesce(ranks.is_max_rank, false) as is_max_rank
    from snapshots
    left join ranks
        on ranks.rank = snapshots.rank
)

select * from final
