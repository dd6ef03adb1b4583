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
    halo_write_changed_partitions=true,
) }}
{#-
    match_stats per season as Parquet: <external_root>/season=<season>/match_stats_0.parquet.
    external_root comes from the `player` profile (HALO_ARCHIVE_DIR, default the player's archive/
    folder beside stats.duckdb), never from this file. The location is a string rendered by the
    materialization at run time, so one parsed manifest serves every player (the CLI's runner).
    A full build (--full-refresh, as every full `halo build`) rewrites the whole archive (OVERWRITE); a build of
    an archive built before writes only the seasons whose rows changed (halo_write_changed_partitions,
    macros/materializations/lean_external.sql) and rewrites everything when a season disappeared, the columns changed or a folder
    holds other files than its one. Re-running is safe either way and a season never keeps stale rows. Quotes in the path are doubled: dbt-duckdb puts the location into `COPY ... TO '...'`
    and `read_parquet('...')` unescaped, and HALO_DATA_DIR may contain a quote.
    Types: FLOAT ratios and rates; every integer (counts, codes, scores, CSR) BIGINT, which holds every value the
    loader accepts (at most 17 digits, summed over at most 64 team entries): a count that does not fit must never
    fail the build (Parquet stores SMALLINT as 32 bits anyway, and zstd packs the small values of BIGINT columns).
    The season folder name keeps letters, digits, '.', '_' and '-' (others become '_'); the loader rejects a
    SeasonId longer than 64 characters, so a folder name is at most 7 + 64 characters.
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
        cast(game_variant_category as bigint) as game_variant_category,
        mode_name,
        is_ranked,
        is_matchmade,
        cast(outcome as bigint) as outcome,
        cast(team_id as bigint) as team_id,
        cast(rank as bigint) as rank,
        cast(kills as bigint) as kills,
        cast(deaths as bigint) as deaths,
        cast(assists as bigint) as assists,
        cast(kda as float) as kda,
        cast(kd_ratio as float) as kd_ratio,
        cast(accuracy as float) as accuracy,
        cast(shots_fired as bigint) as shots_fired,
        cast(shots_hit as bigint) as shots_hit,
        cast(damage_dealt as bigint) as damage_dealt,
        cast(damage_taken as bigint) as damage_taken,
        cast(headshot_kills as bigint) as headshot_kills,
        cast(melee_kills as bigint) as melee_kills,
        cast(grenade_kills as bigint) as grenade_kills,
        cast(power_weapon_kills as bigint) as power_weapon_kills,
        cast(max_killing_spree as bigint) as max_killing_spree,
        cast(avg_life_s as float) as avg_life_s,
        cast(time_played_s as float) as time_played_s,
        cast(score as bigint) as score,
        cast(personal_score as bigint) as personal_score,
        cast(my_team_score as bigint) as my_team_score,
        cast(enemy_team_score as bigint) as enemy_team_score,
        cast(team_mmr as float) as team_mmr,
        cast(enemy_mmr as float) as enemy_mmr,
        cast(expected_kills as float) as expected_kills,
        cast(expected_deaths as float) as expected_deaths,
        cast(pre_match_csr as bigint) as pre_match_csr,
        cast(post_match_csr as bigint) as post_match_csr,
        left_early,
        session_id,
        cast(performance_score as float) as performance_score,
        -- the folder name: letters, digits, '.', '_' and '-' only (any other character becomes '_'), so every
        -- season the loader accepts (SeasonId at most 64 characters) is one folder inside the archive root
        regexp_replace(season, '[^A-Za-z0-9._-]', '_', 'g') as season
    from matches
)

select * from final
