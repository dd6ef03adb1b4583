{#-
    experience of a match (docs/definitions.md#experience): who the players played against and how the match was
    made. `pve` against AI: GameplayInteraction 2 (PvE), a PvE playlist (PlaylistExperience 4 PvE Bots, 6 PvE) or a
    PvE mode (GameVariantCategory 1 Campaign, 42 Firefight), matchmade or custom; otherwise `pvp_custom` without a playlist (a custom game) and
    `pvp_matchmade` with one. Every aggregate of the marts is split by it.
-#}
{% macro match_experience(gameplay_interaction, playlist_experience, game_variant_category, playlist_asset_id) -%}
    case
        when {{ gameplay_interaction }} = 2 or {{ playlist_experience }} in (4, 6) or {{ game_variant_category }} in (1, 42)
            then 'pve'
        when {{ playlist_asset_id }} is null then 'pvp_custom'
        else 'pvp_matchmade'
    end
{%- endmacro %}

{#- outcome_name (docs/definitions.md#outcome): the outcome code as a name; null for a code it does not know. -#}
{% macro outcome_name(outcome) -%}
    case {{ outcome }}
        when 1 then 'tie'
        when 2 then 'win'
        when 3 then 'loss'
        when 4 then 'did_not_finish'
    end
{%- endmacro %}

{#- The CSR sub-tier's name (docs/definitions.md#csr_tier): "Diamond 4" for tier Diamond, 0-based sub-tier 3; the tier
    alone for Onyx (no sub-tiers) and Unranked; null without a tier. -#}
{% macro csr_sub_tier_name(tier, sub_tier) -%}
    case
        when {{ tier }} is null or {{ tier }} = '' then null
        when {{ tier }} in ('Onyx', 'Unranked') or {{ sub_tier }} is null then {{ tier }}
        else {{ tier }} || ' ' || cast({{ sub_tier }} + 1 as {{ dbt.type_string() }})
    end
{%- endmacro %}
