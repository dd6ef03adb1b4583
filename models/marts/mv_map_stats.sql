-- How each owner does on each map, per experience (pvp_matchmade, pvp_custom, pve).
with

matches as (
    select * from {{ ref('match_stats') }}
),

final as (
    select
        owner_xuid,
        experience,
        map_asset_id,
        max(map_name) as map_name,
        {{ match_summary_columns() }}
    from matches
    where map_asset_id is not null
    group by owner_xuid, experience, map_asset_id
)

select * from final
