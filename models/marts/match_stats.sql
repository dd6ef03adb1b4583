{{ config(
    materialized='halo_incremental',
    incremental_strategy='delete+insert',
    unique_key='match_id',
    on_schema_change='append_new_columns',
) }}
{#-
    One row per owner and match (owner_xuid, match_id). Incremental: a run rewrites the matches (re)loaded since
    the last build, plus every match of the same owner that started at or after the earliest of them, because
    session_id and performance_score of a match depend on the owner's matches before it (a backfilled old match can change them; a normal append only
    touches the new matches). Sessions are computed by window functions over the owner's whole
    history (a few columns, milliseconds for 10,000 matches). performance_score of the rewritten
    matches: against every earlier match, the stored ones read from this table (a join of the few new
    rows with the history); above `performance_score_join_limit` rewritten matches (a large backfill),
    from int_owner_matches_scored's windows over the whole history; on a full build, the same windows
    (performance_score_ctes, int_owner_matches_scored's body) over the enriched rows of this query, which then reads
    int_owner_matches_enriched once. All use macros/performance_score.sql.
-#}
-- depends_on: {{ ref('int_match_loads') }}
-- depends_on: {{ ref('stg_halo__matches') }}
-- depends_on: {{ ref('int_owner_match_players') }}
-- depends_on: {{ ref('int_owner_matches_scored') }}
with

matches as (
    select * from {{ ref('int_owner_matches_enriched') }}
),

sessions as (
    select * from {{ ref('int_matches_sessionized') }}
),

{% if halo_is_incremental() %}
{%- set rewritten = halo_rewritten_matches() %}
{% endif %}
to_write as (
    select matches.*
    from matches
    {% if halo_is_incremental() %}
    -- literals (see macros/changed_matches.sql): the filter reaches the raw scans under the views
    where matches.match_id in ({{ rewritten.ids_sql }})
    {% endif %}
),

{% if halo_is_incremental() and rewritten.count <= var('performance_score_join_limit', 1000) %}
-- performance_score of the rewritten matches only, against every earlier match: the stored matches' metrics
-- are in this table (player_count from staging). Same definition (macros/performance_score.sql), O(new x all).
score_inputs as (
    select owner_xuid, match_id, start_time, kills, deaths, assists, kda, accuracy, personal_score, damage_dealt,
           time_played_s, team_mmr, enemy_mmr, rank, player_count
    from to_write
),

stored_inputs as (
    select
        built.owner_xuid, built.match_id, built.start_time, built.kills, built.deaths, built.assists, built.kda, built.accuracy,
        built.personal_score, built.damage_dealt, built.time_played_s, built.team_mmr, built.enemy_mmr,
        built.rank, games.player_count
    from {{ this }} as built
    inner join {{ ref('stg_halo__matches') }} as games
        on games.match_id = built.match_id
    where built.match_id not in (select match_id from to_write)
),

scored_metrics as (
    select owner_xuid, match_id, start_time, {{ performance_metric_columns() }}
    from score_inputs
),

history_metrics as (
    select owner_xuid, match_id, start_time, {{ performance_metric_columns() }}
    from (select * from stored_inputs union all select * from score_inputs) as all_inputs
),

shares as (
    {{ performance_shares_against_earlier('scored_metrics', 'history_metrics') }}
),

scores as (
    select owner_xuid, match_id, earlier_matches, {{ performance_score_from_shares() }} as performance_score
    from shares
),

{% elif halo_is_incremental() %}
-- a large backfill: the scores of the whole history, from the full-build path's view
scores as (
    select * from {{ ref('int_owner_matches_scored') }}
),

{% else %}
-- a full build: the same definition (performance_score_ctes, as int_owner_matches_scored) over the enriched rows
-- this query writes, so that int_owner_matches_enriched is read once, not a second time through the view
{{ performance_score_ctes('matches', 'scores') }},

{% endif %}

final as (
    select
        to_write.owner_xuid,
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
        to_write.experience,
        to_write.is_matchmade,
        to_write.outcome,
        {{ outcome_name('to_write.outcome') }} as outcome_name,
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
        to_write.pre_match_csr_tier,
        to_write.pre_match_csr_sub_tier_name,
        to_write.post_match_csr_tier,
        to_write.post_match_csr_sub_tier_name,
        to_write.left_early,
        sessions.session_id,
        scores.performance_score,
        to_write.loaded_at
    from to_write
    left join sessions
        on sessions.owner_xuid = to_write.owner_xuid
        and sessions.match_id = to_write.match_id
    left join scores
        on scores.owner_xuid = to_write.owner_xuid
        and scores.match_id = to_write.match_id
)

select * from final
