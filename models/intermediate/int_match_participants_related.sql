-- Every player of every match of each owner, with their relation to that owner in that match
-- (same last team = teammate, other team = opponent) and the owner's outcome. One row per
-- (owner_xuid, match_id, player_id).
with

owner_players as (
    select * from {{ ref('int_owner_match_players') }}
),

players as (
    select * from {{ ref('stg_halo__match_players') }}
),

matches as (
    select * from {{ ref('stg_halo__matches') }}
),

final as (
    select
        owner_players.owner_xuid,
        players.match_id,
        players.player_id,
        players.xuid,
        players.is_bot,
        players.team_id,
        players.player_id = owner_players.player_id as is_owner,
        case
            when players.player_id = owner_players.player_id then 'owner'
            when players.team_id = owner_players.team_id then 'teammate'
            else 'opponent'
        end as relation_to_owner,
        owner_players.outcome as owner_outcome,
        matches.experience,
        matches.start_time
    from owner_players
    inner join players
        on players.match_id = owner_players.match_id
    inner join matches
        on matches.match_id = players.match_id
)

select * from final
