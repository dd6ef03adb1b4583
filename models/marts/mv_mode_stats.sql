-- How each owner does in each mode (game variant category: Slayer, CTF, Oddball, ...), per experience.
with

matches as (
    select * from {{ ref('match_stats') }}
),

final as (
    select
        owner_xuid,
        experience,
        game_variant_category,
        max(mode_name) as mode_name,
        {{ match_summary_columns() }}
    from matches
    group by owner_xuid, experience, game_variant_category
)

select * from final
