{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='match_id',
    on_schema_change='append_new_columns',
) }}
{#-
    Incremental: a run rewrites the matches (re)loaded since the last build, plus every match that
    started at or after the earliest of them, because session_id and performance_score of a match
    depend on the matches before it (a backfilled old match can change them; a normal append only
    touches the new matches). Sessions and scores are computed by window functions over the
    owner's whole history (a few columns, milliseconds for 10,000 matches).
-#}
-- depends_on: {{ ref('int_match_loads') }}
with

matches as (
    select * from {{ ref('int_owner_matches_enriched') }}
),

sessions as (
    select * from {{ ref('int_matches_sessionized') }}
),

scores as (
    select * from {{ ref('int_owner_matches_scored') }}
),

{% if is_incremental() %}
changed as (
    {{ changed_match_ids() }}
),

earliest_change as (
    select min(start_time) as start_time
    from matches
    where match_id in (select match_id from changed)
),

{% endif %}
to_write as (
    select matches.*
    from matches
    {% if is_incremental() %}
    where matches.match_id in (select match_id from changed)
       or matches.start_time >= (select start_time from earliest_change)
    {% endif %}
),

final as (
    select
        to_write.match_id,
        to_write.start_time,
        to_write.end_time,
        to_write.duration_s,
        to_write.season,
        to_write.playlist_asset_id,
        to_write.playlist_name,
        to_write.map_asset_id,
        to_write.map_name,
        to_write.game_variant_asset_id,
        to_write.game_variant_name,
        to_write.map_mode_pair_asset_id,
        to_write.map_mode_pair_name,
        to_write.game_variant_category,
        to_write.mode_name,
        to_write.is_ranked,
        to_write.is_matchmade,
        to_write.outcome,
        to_write.team_id,
        to_write.rank,
        to_write.kills,
        to_write.deaths,
        to_write.assists,
        to_write.kda,
        {{ kd_ratio('to_write.kills', 'to_write.deaths') }} as kd_ratio,
        to_write.accuracy,
        to_write.shots_fired,
        to_write.shots_hit,
        to_write.damage_dealt,
        to_write.damage_taken,
        to_write.headshot_kills,
        to_write.melee_kills,
        to_write.grenade_kills,
        to_write.power_weapon_kills,
        to_write.max_killing_spree,
        to_write.avg_life_s,
        to_write.time_played_s,
        to_write.score,
        to_write.personal_score,
        to_write.my_team_score,
        to_write.enemy_team_score,
        to_write.team_mmr,
        to_write.enemy_mmr,
        to_write.expected_kills,
        to_write.expected_deaths,
        to_write.pre_match_csr,
        to_write.post_match_csr,
        to_write.left_early,
        sessions.session_id,
        scores.performance_score,
        to_write.loaded_at
    from to_write
    left join sessions
        on sessions.match_id = to_write.match_id
    left join scores
        on scores.match_id = to_write.match_id
)

select * from final
