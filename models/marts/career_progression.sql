-- One row per observation of an owner's career rank, with the rank's title, tier and XP. A snapshot belongs to the
-- owner whose raw layer holds it (the lake's owner_xuid; a player's file: its owner), else the owner whose player id
-- is its spartan_id; in a warehouse of one owner, every snapshot is that owner's (the loader
-- writes a player's own rank into their own file; docs/definitions.md#owner).
with

snapshots as (
    select * from {{ ref('stg_halo__career_rank_snapshots') }}
),

owners as (
    select * from {{ ref('tracked_players') }}
),

single_owner as (
    select max(owner_xuid) as owner_xuid, count(*) as owners
    from owners
),

ranks as (
    select * from {{ ref('stg_meta__career_ranks') }}
),

final as (
    select
        coalesce(snapshots.owner_xuid, owners.owner_xuid, case when single_owner.owners = 1 then single_owner.owner_xuid end)
            as owner_xuid,
        snapshots.snapshot_id,
        snapshots.observed_at,
        snapshots.observed_at_source,
        snapshots.rank,
        ranks.title,
        ranks.subtitle,
        ranks.tier_type as tier,
        cast(ranks.grade as {{ dbt.type_int() }}) as grade,
        snapshots.xp_in_rank,
        ranks.xp_required as xp_required_for_rank,
        -- XP of every rank completed before this one, plus the progress inside it
        ranks.cumulative_xp + snapshots.xp_in_rank as cumulative_xp,
        coalesce(snapshots.has_reached_max_rank, false) or coalesce(ranks.is_max_rank, false) as is_max_rank
    from snapshots
    cross join single_owner
    left join owners
        on owners.player_id = snapshots.spartan_id
    left join ranks
        on ranks.rank = snapshots.rank
)

select * from final
where owner_xuid is not null
