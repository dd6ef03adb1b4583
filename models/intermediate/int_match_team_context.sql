-- Per match, the owner's side of it: team, team scores (mine vs best enemy) and skill data.
with

owner as (
    select * from {{ ref('stg_halo__owner') }}
),

players as (
    select * from {{ ref('stg_halo__match_players') }}
),

teams as (
    select * from {{ ref('stg_halo__match_teams') }}
),

skill as (
    select * from {{ ref('stg_halo__match_skill') }}
),

team_mmrs as (
    select * from {{ ref('stg_halo__match_skill_team_mmrs') }}
),

owner_players as (
    select
        players.match_id,
        players.player_id,
        players.team_id
    from players
    inner join owner
        on players.player_id = owner.player_id
),

team_scores as (
    select
        owner_players.match_id,
        max(case when teams.team_id = owner_players.team_id then teams.score end) as my_team_score,
        max(case when teams.team_id <> owner_players.team_id then teams.score end) as enemy_team_score
    from owner_players
    inner join teams
        on teams.match_id = owner_players.match_id
    group by owner_players.match_id
),

owner_skill as (
    select skill.*
    from skill
    inner join owner
        on skill.player_id = owner.player_id
),

enemy_mmrs as (
    select
        owner_skill.match_id,
        max(team_mmrs.mmr) as enemy_mmr
    from owner_skill
    inner join team_mmrs
        on team_mmrs.match_id = owner_skill.match_id
        and team_mmrs.player_id = owner_skill.player_id
        and team_mmrs.team_id <> owner_skill.team_id
    group by owner_skill.match_id
),

final as (
    select
        owner_players.match_id,
        owner_players.team_id,
        team_scores.my_team_score,
        team_scores.enemy_team_score,
        owner_skill.team_mmr,
        enemy_mmrs.enemy_mmr,
        owner_skill.expected_kills,
        owner_skill.expected_deaths,
        owner_skill.pre_match_csr,
        owner_skill.post_match_csr,
        owner_skill.pre_match_csr_tier,
        owner_skill.post_match_csr_tier
    from owner_players
    left join team_scores
        on team_scores.match_id = owner_players.match_id
    left join owner_skill
        on owner_skill.match_id = owner_players.match_id
    left join enemy_mmrs
        on enemy_mmrs.match_id = owner_players.match_id
)

select * from final
