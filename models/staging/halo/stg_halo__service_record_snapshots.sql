with

source as (
    select * from {{ source('halo', 'service_record_snapshots') }}
),

renamed as (
    select
        ----------  ids
        {{ owner_xuid_column() }} as owner_xuid,
        snapshot_id,
        ----------  strings
        observed_at_source,
        ----------  numerics
        time_played_s,
        matches_completed,
        wins,
        losses,
        ties,
        score,
        personal_score,
        rounds_won,
        rounds_lost,
        rounds_tied,
        kills,
        deaths,
        assists,
        average_kda,
        suicides,
        betrayals,
        grenade_kills,
        headshot_kills,
        melee_kills,
        power_weapon_kills,
        shots_fired,
        shots_hit,
        accuracy,
        damage_dealt,
        damage_taken,
        callout_assists,
        vehicle_destroys,
        driver_assists,
        hijacks,
        emp_assists,
        max_killing_spree,
        spawns,
        objectives_completed,
        ----------  timestamps
        observed_at
    from source
)

select * from renamed
