-- Per match and player with a skill result: the team MMR, the best MMR of the other teams in that result,
-- expected kills/deaths and the CSR before and after (values, tiers, sub-tiers). Match-level (no owner):
-- owner views pick their own player's row.
with

skill as (
    select * from {{ ref('stg_halo__match_skill') }}
),

team_mmrs as (
    select * from {{ ref('stg_halo__match_skill_team_mmrs') }}
),

enemy_mmrs as (
    select
        skill.match_id,
        skill.player_id,
        max(team_mmrs.mmr) as enemy_mmr
    from skill
    inner join team_mmrs
        on team_mmrs.match_id = skill.match_id
        and team_mmrs.player_id = skill.player_id
        and team_mmrs.team_id <> skill.team_id
    group by skill.match_id, skill.player_id
),

final as (
    select
        skill.match_id,
        skill.player_id,
        skill.team_mmr,
        enemy_mmrs.enemy_mmr,
        skill.expected_kills,
        skill.expected_deaths,
        skill.pre_match_csr,
        skill.post_match_csr,
        skill.pre_match_csr_tier,
        skill.pre_match_csr_sub_tier,
        skill.post_match_csr_tier,
        skill.post_match_csr_sub_tier
    from skill
    left join enemy_mmrs
        on enemy_mmrs.match_id = skill.match_id
        and enemy_mmrs.player_id = skill.player_id
)

select * from final
