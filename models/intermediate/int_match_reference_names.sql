-- Names of each match's playlist, map, game variant and map-mode pair from the metadata DB,
-- preferring the exact asset version, else any version of the asset; plus the season.
-- A name is null when the metadata does not know the asset (the id stays in its own column).
{% set assets = ['playlist', 'map', 'game_variant', 'map_mode_pair'] %}
with

matches as (
    select * from {{ ref('stg_halo__matches') }}
),

seasons as (
    select * from {{ ref('stg_meta__seasons') }}
),

categories as (
    select * from {{ ref('stg_meta__game_variant_categories') }}
),

playlists as (
    select * from {{ ref('stg_meta__playlists') }}
),

maps as (
    select * from {{ ref('stg_meta__maps') }}
),

game_variants as (
    select * from {{ ref('stg_meta__game_variants') }}
),

map_mode_pairs as (
    select * from {{ ref('stg_meta__map_mode_pairs') }}
),

playlist_any_version as (
    select
        playlist_asset_id,
        max(playlist_name) as playlist_name,
        {{ dbt.bool_or('is_ranked') }} as is_ranked
    from playlists
    group by playlist_asset_id
),

map_any_version as (
    select map_asset_id, max(map_name) as map_name
    from maps
    group by map_asset_id
),

game_variant_any_version as (
    select game_variant_asset_id, max(game_variant_name) as game_variant_name
    from game_variants
    group by game_variant_asset_id
),

map_mode_pair_any_version as (
    select map_mode_pair_asset_id, max(map_mode_pair_name) as map_mode_pair_name
    from map_mode_pairs
    group by map_mode_pair_asset_id
),

csr_seasons as (
    select season_key, start_time, end_time
    from seasons
    where season_kind = 'csr'
),

calendar_season as (
    -- the CSR season covering the start of a match without SeasonId
    select
        matches.match_id,
        max(csr_seasons.season_key) as season_key
    from matches
    inner join csr_seasons
        on matches.start_time >= csr_seasons.start_time
        and matches.start_time < csr_seasons.end_time
    where matches.csr_season_key is null
    group by matches.match_id
),

final as (
    select
        matches.match_id,
        coalesce(matches.csr_season_key, calendar_season.season_key, 'unknown') as season,
        coalesce(playlist_exact.playlist_name, playlist_any_version.playlist_name) as playlist_name,
        coalesce(map_exact.map_name, map_any_version.map_name) as map_name,
        coalesce(game_variant_exact.game_variant_name, game_variant_any_version.game_variant_name)
            as game_variant_name,
        coalesce(map_mode_pair_exact.map_mode_pair_name, map_mode_pair_any_version.map_mode_pair_name)
            as map_mode_pair_name,
        categories.mode_name,
        -- custom games have no playlist: not ranked; a playlist unknown to the metadata: unknown (null)
        case
            when matches.playlist_asset_id is null then false
            else coalesce(playlist_exact.is_ranked, playlist_any_version.is_ranked)
        end as is_ranked
    from matches
    left join calendar_season
        on calendar_season.match_id = matches.match_id
    left join categories
        on categories.game_variant_category = matches.game_variant_category
    {%- for asset in assets %}
    left join {{ asset }}s as {{ asset }}_exact
        on {{ asset }}_exact.{{ asset }}_asset_id = matches.{{ asset }}_asset_id
        and {{ asset }}_exact.{{ asset }}_version_id = matches.{{ asset }}_version_id
    left join {{ asset }}_any_version
        on {{ asset }}_any_version.{{ asset }}_asset_id = matches.{{ asset }}_asset_id
    {%- endfor %}
)

select * from final
