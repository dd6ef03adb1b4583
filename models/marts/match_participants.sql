{{ config(
    materialized='halo_incremental',
    incremental_strategy='delete+insert',
    unique_key='match_id',
    on_schema_change='append_new_columns',
) }}
{#-
    Incremental by match. Besides (re)loaded matches, a run also rewrites the matches of players
    whose latest gamertag changed with the new films, so `gamertag` is always the latest one known.
-#}
-- depends_on: {{ ref('stg_halo__highlight_events') }}
{%- if halo_is_incremental() %}{% set changed_ids = changed_match_ids() %}{% endif %}
with

players as (
    select * from {{ ref('stg_halo__match_players') }}
),

owners as (
    select * from {{ ref('tracked_players') }}
),

gamertags as (
    select * from {{ ref('int_player_gamertags') }}
),

loads as (
    select * from {{ ref('int_match_loads') }}
),

{% if halo_is_incremental() %}
{%- set to_write_query %}
    select match_id from {{ ref('stg_halo__match_players') }} where match_id in ({{ changed_ids }})
    union
    -- players whose latest gamertag changed: every match of theirs gets the new one. Only players of the
    -- new films can have a new latest gamertag (one seen earlier would have been applied already).
    select match_id
    from {{ ref('stg_halo__match_players') }}
    where xuid in (
        select distinct events.xuid
        from {{ ref('stg_halo__highlight_events') }} as events
        inner join {{ ref('int_player_gamertags') }} as gamertags
            on gamertags.xuid = events.xuid
        where events.match_id in ({{ changed_ids }})
          and exists (
              select 1 from {{ this }} as built
              where built.xuid = events.xuid
                and built.gamertag is distinct from gamertags.gamertag
          )
    )
{%- endset %}
{%- set to_write = inline_match_ids(to_write_query) %}
{% endif %}
final as (
    select
        players.match_id,
        players.player_id,
        players.xuid,
        players.is_bot,
        gamertags.gamertag,
        players.team_id,
        players.outcome,
        {{ outcome_name('players.outcome') }} as outcome_name,
        players.rank,
        players.kills,
        players.deaths,
        players.assists,
        players.kda,
        {{ kd_ratio('players.kills', 'players.deaths') }} as kd_ratio,
        players.accuracy,
        players.shots_fired,
        players.shots_hit,
        players.damage_dealt,
        players.damage_taken,
        players.score,
        players.personal_score,
        players.time_played_s,
        players.left_early,
        owners.player_id is not null as is_owner,
        loads.loaded_at
    from players
    left join owners
        on owners.player_id = players.player_id
    left join gamertags
        on gamertags.xuid = players.xuid
    left join loads
        on loads.match_id = players.match_id
    {% if halo_is_incremental() %}
    where players.match_id in ({{ to_write }})
    {% endif %}
)

select * from final
