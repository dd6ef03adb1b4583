{{ config(
    materialized='halo_external',
    location="{{ adapter.external_root() | replace(\"'\", \"''\") }}",
    format='parquet',
    options={
        'partition_by': 'season',
        'overwrite': true,
        'compression': 'zstd',
        'row_group_size': 100000,
        'filename_pattern': "'match_stats_{i}'",
    },
) }}
{#-
    match_stats per season as Parquet: <external_root>/season=<season>/match_stats_0.parquet.
    external_root comes from the `player` profile (HALO_ARCHIVE_DIR, default the player's archive/
    folder beside stats.duckdb), never from this file. The location is a string rendered by the
    materialization at run time, so one parsed manifest serves every player (the CLI's runner).
    Each build rewrites the whole archive (OVERWRITE), so re-running is safe and a season never
    keeps stale files. Quotes in the path are doubled: dbt-duckdb puts the location into `COPY ... TO '...'`
    and `read_parquet('...')` unescaped, and HALO_DATA_DIR may contain a quote.
    Compact types: SMALLINT counts, FLOAT ratios and rates, INTEGER scores/CSR.
-#}
with

matches as (
    select * from {{ ref('match_stats') }}
),

final as (
    select
        owner_xuid,
        match_id,
        start_time,
        end_time,
        cast(duration_s as float) as duration_s,
        playlist_asset_id,
        playlist_name,
        map_asset_id,
        map_name,
        game_variant_asset_id,
        game_variant_name,
        map_mode_pair_asset_id,
        map_mode_pair_name,
        cast(game_variant_category as smallint) as game_variant_category,
        mode_name,
        is_ranked,
        is_matchmade,
        cast(outcome as smallint) as outcome,
        cast(team_id as smallint) as team_id,
        cast(rank as smallint) as rank,
        cast(kills as smallint) as kills,
        cast(deaths as smallint) as deaths,
        cast(assists as smallint) as assists,
        cast(kda as float) as kda,
        cast(kd_ratio as float) as kd_ratio,
        cast(accuracy as float) as accuracy,
        cast(shots_fired as integer) as shots_fired,
        cast(shots_hit as integer) as shots_hit,
        cast(damage_dealt as integer) as damage_dealt,
        cast(damage_taken as integer) as damage_taken,
        cast(headshot_kills as smallint) as headshot_kills,
        cast(melee_kills as smallint) as melee_kills,
        cast(grenade_kills as smallint) as grenade_kills,
        cast(power_weapon_kills as smallint) as power_weapon_kills,
        cast(max_killing_spree as smallint) as max_killing_spree,
        cast(avg_life_s as float) as avg_life_s,
        cast(time_played_s as float) as time_played_s,
        cast(score as integer) as score,
        cast(personal_score as integer) as personal_score,
        cast(my_team_score as integer) as my_team_score,
        cast(enemy_team_score as integer) as enemy_team_score,
        cast(team_mmr as float) as team_mmr,
        cast(enemy_mmr as float) as enemy_mmr,
        cast(expected_kills as float) as expected_kills,
        cast(expected_deaths as float) as expected_deaths,
        cast(pre_match_csr as smallint) as pre_match_csr,
        cast(post_match_csr as smallint) as post_match_csr,
        left_early,
        session_id,
        cast(performance_score as float) as performance_score,
        season
    from matches
)

select * from final
