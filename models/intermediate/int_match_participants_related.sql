-- Every player of every match with their relation to the owner in that match
-- (same last team = teammate, other team = opponent) and the owner's outcome.
with

owner as (
    select * from {{ ref('stg_halo__owner') }}
),

players as (
    select * from {{ ref('stg_halo__match_players') }}
),

matches as (
    select * from {{ ref('stg_halo__matches') }}
),

owner_players as (
    select
        players.match_id,
        players.team_id as owner_team_id,
        players.outcome as owner_outcome
    from players
    inner join owner
        on players.player_id = owner.player_id
),

final as (
    select
        players.match_id,
        players.player_id,
        players.xuid,
        players.is_bot,
        players.team_id,
        players.player_id = owner.player_id as is_owner,
        case
            when players.player_id = owner.player_id then 'owner'
            when players.team_id = owner_players.owner_team_id then 'teammate'
            else 'opponent'
        end as relation_to_owner,
        owner_players.owner_outcome,
        matches.start_time
    from players
    cross join owner
    inner join owner_players
        on owner_players.match_id = players.match_id
    inner join matches
        on matches.match_id = players.match_id
)

select * from final
