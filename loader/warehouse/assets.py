"""The UGC assets (maps, modes, playlists, map-mode pairs) a player's matches use, and which of them the metadata
database lacks: the names that stay null in the marts until the assets are loaded (`halo sync` fetches them)."""

from collections.abc import Sequence
from pathlib import Path

from loader.core.duckdb_files import read_only_rows

# asset kind (as the reference loader names it) -> the raw.matches columns of its id and version
ASSET_COLUMNS = {
    "map": ("map_asset_id", "map_version_id"),
    "game_variant": ("game_variant_asset_id", "game_variant_version_id"),
    "playlist": ("playlist_asset_id", "playlist_version_id"),
    "map_mode_pair": ("map_mode_pair_asset_id", "map_mode_pair_version_id"),
}


def used_assets(player_databases: Sequence[Path]) -> dict[tuple[str, str], str]:
    """(kind, lower-case asset id) -> the version of the newest match using it, over the players' matches."""
    assets: dict[tuple[str, str], str] = {}
    statements = [f"SELECT lower({asset}), arg_max({version}, start_time) FROM raw.matches "
                  f"WHERE {asset} IS NOT NULL GROUP BY 1 ORDER BY 1" for asset, version in ASSET_COLUMNS.values()]
    for database in player_databases:
        for kind, rows in zip(ASSET_COLUMNS, read_only_rows(database, *statements)):
            for asset_id, version_id in rows:
                assets.setdefault((kind, asset_id), version_id)
    return assets


def loaded_assets(metadata_db: Path) -> set[tuple[str, str]]:
    """(kind, lower-case id) of every reference document stored in the metadata database."""
    [rows] = read_only_rows(metadata_db, "SELECT kind, doc_id FROM raw.documents")
    return {(kind, doc_id.lower()) for kind, doc_id in rows}


def missing_assets(player_databases: Sequence[Path], metadata_db: Path) -> dict[str, list[str]]:
    """kind -> the asset ids the players' matches use that the metadata database does not hold, sorted."""
    have = loaded_assets(metadata_db)
    missing: dict[str, list[str]] = {}
    for kind, asset_id in sorted(used_assets(player_databases)):
        if (kind, asset_id) not in have:
            missing.setdefault(kind, []).append(asset_id)
    return missing
