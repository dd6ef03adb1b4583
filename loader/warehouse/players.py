"""The tracked players: every `players/*/stats.duckdb` under the data root (no dbt import: sync needs it too)."""

from dataclasses import dataclass
from pathlib import Path

import duckdb

from loader.core.paths import PLAYER_DB_NAME, data_dir


@dataclass(frozen=True)
class PlayerFile:
    """A tracked player: the gamertag recorded in the DB (raw.owner) and the file."""

    gamertag: str
    database: Path


def tracked_players(root: Path | None = None) -> list[PlayerFile]:
    """Every `players/*/stats.duckdb` under the data root, named by the gamertag stored inside."""
    players = []
    for db in sorted((root or data_dir()).glob(f"players/*/{PLAYER_DB_NAME}")):
        try:
            with duckdb.connect(str(db), read_only=True) as con:
                rows = con.execute("SELECT gamertag FROM raw.owner").fetchall()
            name = rows[0][0] if rows else db.parent.name
        except duckdb.Error:
            name = db.parent.name  # busy or damaged: the build reports it
        players.append(PlayerFile(name, db))
    return players


def built_match_count(database: Path) -> int | None:
    """Matches in a player's built `match_stats`, or None when it cannot be read (not built, busy)."""
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            return con.execute("SELECT count(*) FROM main.match_stats").fetchall()[0][0]
    except duckdb.Error:
        return None


def open_for_reading(database: Path, metadata_db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a player's database with the metadata database attached read-only as `meta`,
    as the dbt profile attaches it (so `meta.main.medal_definitions` and the marts' views resolve)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        if metadata_db.is_file():
            con.execute("ATTACH ? AS meta (READ_ONLY)", [str(metadata_db)])
    except duckdb.Error:
        con.close()
        raise
    return con
