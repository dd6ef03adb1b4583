"""`halo build`: rebuild metadata when its raw data changed, then every requested player in-process."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loader.dbt_runner import BuildOutcome, DbtProject
from loader.load_reference import require_metadata_db
from loader.paths import PLAYER_DB_NAME, data_dir, player_db_path

FINGERPRINT_NAME = "metadata.fingerprint"


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


def metadata_fingerprint(path: Path) -> str:
    """A digest of every stored reference document: it changes exactly when reference data changed."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT md5(coalesce(string_agg(kind || ':' || doc_id || ':' || sha256, ',' "
                           "ORDER BY kind, doc_id), '')) FROM raw.documents").fetchall()
    return rows[0][0]


def build_metadata_if_changed(project: DbtProject, root: Path) -> BuildOutcome | None:
    """Run the metadata build when the reference documents differ from the last successful build."""
    path = require_metadata_db(root, models=False)
    stamp = path.parent / FINGERPRINT_NAME
    current = metadata_fingerprint(path)
    if stamp.exists() and stamp.read_text() == current:
        return None
    outcome = project.build_metadata()
    if outcome.success:
        stamp.write_text(current)
    return outcome


def build_players(
    gamertags: Sequence[str] | None,
    root: Path | None = None,
    on_player: Callable[[BuildOutcome], None] | None = None,
) -> tuple[BuildOutcome | None, list[BuildOutcome]]:
    """Build the named players (or all when `gamertags` is None); one failure never stops the others."""
    root = root or data_dir()
    project = DbtProject(root)
    metadata = build_metadata_if_changed(project, root)
    if metadata is not None and not metadata.success:
        return metadata, []
    players = (tracked_players(root) if gamertags is None
               else [PlayerFile(g, player_db_path(g, root)) for g in gamertags])
    outcomes = []
    for player in players:
        outcome = project.build_player(player.gamertag, player.database)
        outcomes.append(outcome)
        if on_player:
            on_player(outcome)
    return metadata, outcomes
