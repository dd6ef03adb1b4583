-- The players this warehouse tracks (the owners): in a player's own file the one owner of raw.owner.
with

owners as (
    select * from {{ ref('stg_halo__owner') }}
),

final as (
    select
        xuid as owner_xuid,
        gamertag,
        player_id
    from owners
)

select * from final
