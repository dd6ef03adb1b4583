-- Per match and team: the team's score and the best score of the other teams. Match-level (no owner):
-- owner views pick their own team's row. A match without teams (e.g. Infection) has no rows.
with

teams as (
    select * from {{ ref('stg_halo__match_teams') }}
),

final as (
    select
        teams.match_id,
        teams.team_id,
        max(teams.score) as team_score,
        max(others.score) as enemy_team_score
    from teams
    left join teams as others
        on others.match_id = teams.match_id
        and others.team_id <> teams.team_id
    group by teams.match_id, teams.team_id
)

select * from final
