-- One row per owner and match: the owner's own stats joined with the match, its reference names, the owner
-- team's scores and the owner's skill result.
with

owner_match_players as (
    select * from {{ ref('int_owner_match_players') }}
),

players as (
    select * from {{ ref('stg_halo__match_players') }}
),

owner_players as (
    select
        owner_match_players.owner_xuid,
        players.*
    from owner_match_players
    inner join players
        on players.match_id = owner_match_players.match_id
        and players.player_id = owner_match_players.player_id
),

matches as (
    select * from {{ ref('stg_halo__matches') }}
),

reference_names as (
    select * from {{ ref('int_match_reference_names') }}
),

team_context as (
    select * from {{ ref('int_match_team_context') }}
),

skill as (
    select * from {{ ref('int_match_player_skill') }}
),

loads as (
    select * from {{ ref('int_match_loads') }}
),

final as (
    select
        owner_players.owner_xuid,
        matches.match_id,
        matches.start_time,
        matches.end_time,
        matches.duration_s,
        reference_names.season,
        matches.playlist_asset_id,
        reference_names.playlist_name,
        matches.map_asset_id,
        reference_names.map_name,
        matches.game_variant_asset_id,
        reference_names.game_variant_name,
        matches.map_mode_pair_asset_id,
        reference_names.map_mode_pair_name,
        matches.game_variant_category,
        reference_names.mode_name,
        reference_names.is_ranked,
        matches.experience,
        matches.playlist_asset_id is not null as is_matchmade,
        matches.player_count,
        owner_players.outcome,
        owner_players.team_id,
        owner_players.rank,
        owner_players.kills,
        owner_players.deaths,
        owner_players.assists,
        owner_players.kda,
        owner_players.accuracy,
        owner_players.shots_fired,
        owner_players.shots_hit,
        owner_players.damage_dealt,
        owner_players.damage_taken,
        owner_players.headshot_kills,
        owner_players.melee_kills,
        owner_players.grenade_kills,
        owner_players.power_weapon_kills,
        owner_players.max_killing_spree,
        owner_players.avg_life_s,
        owner_players.time_played_s,
        owner_players.score,
        owner_players.personal_score,
        team_context.team_score as my_team_score,
        team_context.enemy_team_score,
        skill.team_mmr,
        skill.enemy_mmr,
        skill.expected_kills,
        skill.expected_deaths,
        skill.pre_match_csr,
        skill.post_match_csr,
        skill.pre_match_csr_tier,
        {{ csr_sub_tier_name('skill.pre_match_csr_tier', 'skill.pre_match_csr_sub_tier') }} as pre_match_csr_sub_tier_name,
        skill.post_match_csr_tier,
        {{ csr_sub_tier_name('skill.post_match_csr_tier', 'skill.post_match_csr_sub_tier') }} as post_match_csr_sub_tier_name,
        owner_players.left_early,
        coalesce(loads.loaded_at, matches.loaded_at) as loaded_at
    from matches
    inner join owner_players
        on owner_players.match_id = matches.match_id
    left join reference_names
        on reference_names.match_id = matches.match_id
    left join team_context
        on team_context.match_id = matches.match_id
        and team_context.team_id = owner_players.team_id
    left join skill
        on skill.match_id = matches.match_id
        and skill.player_id = owner_players.player_id
    left join loads
        on loads.match_id = matches.match_id
)

select * from final
