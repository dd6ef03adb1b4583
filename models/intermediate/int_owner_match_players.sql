-- Which matches belong to which tracked player: each owner's own player row of every match they played
-- (the raw layer holds whole matches; a match of several owners is stored once and belongs to each of them).
with

owners as (
    select * from {{ ref('stg_halo__owner') }}
),

players as (
    select * from {{ ref('stg_halo__match_players') }}
),

final as (
    select
        owners.xuid as owner_xuid,
        players.match_id,
        players.player_id,
        players.team_id,
        players.outcome
    from players
    inner join owners
        on players.player_id = owners.player_id
)

select * from final
