{{ config(
    materialized='halo_incremental',
    incremental_strategy='delete+insert',
    unique_key='match_id',
    on_schema_change='append_new_columns',
) }}
{%- if halo_is_incremental() %}{% set changed_ids = changed_match_ids() %}{% endif %}
with

owner_players as (
    select * from {{ ref('int_owner_match_players') }}
    {% if halo_is_incremental() %}
    where match_id in ({{ changed_ids }})
    {% endif %}
),

medals as (
    select * from {{ ref('stg_halo__match_player_medals') }}
),

definitions as (
    select * from {{ ref('stg_meta__medal_definitions') }}
),

matches as (
    select * from {{ ref('stg_halo__matches') }}
    {% if halo_is_incremental() %}
    where match_id in ({{ changed_ids }})
    {% endif %}
),

loads as (
    select * from {{ ref('int_match_loads') }}
    {% if halo_is_incremental() %}
    where match_id in ({{ changed_ids }})
    {% endif %}
),

owner_medals as (
    select owner_players.owner_xuid, medals.*
    from medals
    inner join owner_players
        on owner_players.match_id = medals.match_id
        and owner_players.player_id = medals.player_id
    {% if halo_is_incremental() %}
    where medals.match_id in ({{ changed_ids }})
    {% endif %}
),

final as (
    select
        owner_medals.owner_xuid,
        owner_medals.match_id,
        owner_medals.medal_id,
        matches.start_time,
        owner_medals.medal_count as count,
        owner_medals.personal_score_awarded as personal_score,
        definitions.name_en,
        definitions.name_fr,
        definitions.difficulty,
        definitions.type,
        loads.loaded_at
    from owner_medals
    inner join matches
        on matches.match_id = owner_medals.match_id
    left join definitions
        on definitions.medal_id = owner_medals.medal_id
    left join loads
        on loads.match_id = owner_medals.match_id
)

select * from final
