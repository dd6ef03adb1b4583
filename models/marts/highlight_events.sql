{{ config(
    materialized='halo_incremental',
    incremental_strategy='delete+insert',
    unique_key='match_id',
    on_schema_change='append_new_columns',
) }}
{%- if halo_is_incremental() %}{% set changed_ids = changed_match_ids() %}{% endif %}
with

events as (
    select * from {{ ref('stg_halo__highlight_events') }}
    {% if halo_is_incremental() %}
    where match_id in ({{ changed_ids }})
    {% endif %}
),

definitions as (
    select * from {{ ref('stg_meta__medal_definitions') }}
),

loads as (
    select * from {{ ref('int_match_loads') }}
    {% if halo_is_incremental() %}
    where match_id in ({{ changed_ids }})
    {% endif %}
),

final as (
    select
        events.event_id,
        events.match_id,
        events.event_index,
        events.film_major_version,
        events.xuid,
        events.gamertag,
        events.event_type,
        events.type_hint,
        events.time_ms,
        events.is_medal,
        definitions.medal_id,
        events.film_medal_code,
        coalesce(definitions.name_en, nullif(events.film_medal_name, '')) as medal_name,
        loads.loaded_at
    from events
    left join definitions
        on definitions.film_medal_code = events.film_medal_code
    left join loads
        on loads.match_id = events.match_id
)

select * from final
