-- One row per service record loaded: the owner's lifetime totals as the API reported them at that time. The owner
-- is the one whose raw layer holds the record (stg_halo__service_record_snapshots.owner_xuid).
with

snapshots as (
    select * from {{ ref('stg_halo__service_record_snapshots') }}
),

final as (
    select
        snapshots.owner_xuid,
        snapshots.snapshot_id,
        snapshots.observed_at,
        snapshots.observed_at_source,
        snapshots.time_played_s,
        snapshots.matches_completed,
        snapshots.wins,
        snapshots.losses,
        snapshots.ties,
        snapshots.score,
        snapshots.personal_score,
        snapshots.rounds_won,
        snapshots.rounds_lost,
        snapshots.rounds_tied,
        snapshots.kills,
        snapshots.deaths,
        snapshots.assists,
        snapshots.average_kda,
        snapshots.suicides,
        snapshots.betrayals,
        snapshots.grenade_kills,
        snapshots.headshot_kills,
        snapshots.melee_kills,
        snapshots.power_weapon_kills,
        snapshots.shots_fired,
        snapshots.shots_hit,
        snapshots.accuracy,
        snapshots.damage_dealt,
        snapshots.damage_taken,
        snapshots.callout_assists,
        snapshots.vehicle_destroys,
        snapshots.driver_assists,
        snapshots.hijacks,
        snapshots.emp_assists,
        snapshots.max_killing_spree,
        snapshots.spawns,
        snapshots.objectives_completed
    from snapshots
    -- a file of several owners (a test's shared database) cannot tell whose a service record is
    where snapshots.owner_xuid is not null
)

select * from final
