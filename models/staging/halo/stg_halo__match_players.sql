with

source as (
    select * from {{ source('halo', 'match_players') }}
),

renamed as (
    select
        ----------  ids
        match_id,
        player_id,
        xuid,
        last_team_id as team_id,
        ----------  codes
        player_type,
        bot_difficulty,
        outcome,
        rank,
        ----------  numerics
        team_stats_entries,
        score,
        personal_score,
        kills,
        deaths,
        assists,
        kda,
        suicides,
        betrayals,
        shots_fired,
        shots_hit,
        accuracy,
        damage_dealt,
        damage_taken,
        headshot_kills,
        melee_kills,
        grenade_kills,
        power_weapon_kills,
        max_killing_spree,
        callout_assists,
        spawns,
        objectives_completed,
        average_life_duration_s as avg_life_s,
        time_played_s,
        ----------  booleans
        is_bot,
        present_at_beginning,
        joined_in_progress,
        left_in_progress,
        present_at_completion,
        -- left before the end: the one definition used by match_stats and match_participants
        coalesce(left_in_progress, false) or not coalesce(present_at_completion, true) as left_early,
        confirmed_participation,
        ----------  timestamps
        first_joined_time,
        last_leave_time
    from source
)

select * from renamed
