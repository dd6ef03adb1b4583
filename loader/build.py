"""`halo build`: rebuild metadata when its raw data changed, then every requested player in-process."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loader.dbt_runner import METADATA_FINGERPRINT_NAME, BuildOutcome, DbtProject
from loader.duckdb_files import DatabaseBusyError, connect_for_writing
from loader.load_reference import require_metadata_db
from loader.paths import PLAYER_DB_NAME, data_dir, player_db_path



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


def busy_outcome(name: str, database: Path, what: str) -> BuildOutcome | None:
    """A failed outcome when another process holds `database` (after the bounded wait), else None.

    dbt needs the file for writing; a dashboard's read-only connection, a load or another build blocks it.
    Checked before dbt starts so the player gets this message instead of dbt's lock error.
    """
    if not database.exists():
        return None
    try:
        connect_for_writing(database, what).close()
    except DatabaseBusyError as exc:
        return BuildOutcome(name=name, errors=[f"{exc} Close the readers of this file (dashboards, notebooks, "
                                               "`duckdb` shells) and run halo build again."])
    return None


def metadata_fingerprint(path: Path) -> str:
    """A digest of every stored reference document: it changes exactly when reference data changed."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT md5(coalesce(string_agg(kind || ':' || doc_id || ':' || sha256, ',' "
                           "ORDER BY kind, doc_id), '')) FROM raw.documents").fetchall()
    return rows[0][0]


def build_metadata_if_changed(project: DbtProject, root: Path) -> BuildOutcome | None:
    """Run the metadata build when the reference documents differ from the last successful build."""
    path = require_metadata_db(root, models=False)
    stamp = path.parent / METADATA_FINGERPRINT_NAME
    try:
        current = metadata_fingerprint(path)
    except duckdb.IOException:  # a writer (halo load reference, another build) holds it: wait (bounded) or report
        busy = busy_outcome("metadata", path, "metadata database")
        if busy is not None:
            return busy
        current = metadata_fingerprint(path)
    if stamp.exists() and stamp.read_text() == current:
        return None
    busy = busy_outcome("metadata", path, "metadata database")  # readers are fine above, not for a rebuild
    if busy is not None:
        return busy
    outcome = project.build_metadata()
    if outcome.success:
        stamp.write_text(current)
    return outcome


def build_players(
    gamertags: Sequence[str] | None,
    root: Path | None = None,
    on_player: Callable[[BuildOutcome], None] | None = None,
    full: bool = False,
    project: DbtProject | None = None,
) -> tuple[BuildOutcome | None, list[BuildOutcome]]:
    """Build the named players (or all when `gamertags` is None); one failure never stops the others.

    `full` forces a full `dbt build` (every model and test) even where an update would do (see dbt_runner);
    `project` lets a long-lived process reuse its parsed project.
    """
    root = root or data_dir()
    project = project or DbtProject(root)
    metadata = build_metadata_if_changed(project, root)
    if metadata is not None and not metadata.success:
        return metadata, []
    players = (tracked_players(root) if gamertags is None
               else [PlayerFile(g, player_db_path(g, root)) for g in gamertags])
    outcomes = []
    for player in players:
        # new reference data changes names in every row: the player's build state then no longer matches
        # (see DbtProject.fingerprint) and the build is a full one
        outcome = (busy_outcome(player.gamertag, player.database, f"player database of {player.gamertag!r}")
                   or project.build_player(player.gamertag, player.database, full=full))
        outcomes.append(outcome)
        if on_player:
            on_player(outcome)
    return metadata, outcomes
