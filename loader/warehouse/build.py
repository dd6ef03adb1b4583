"""`halo build`: rebuild metadata when its raw data changed, then every requested player in-process."""

import contextlib
import multiprocessing
import multiprocessing.queues
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb

from loader.core.duckdb_files import building, connect_for_writing, require_metadata_db
from loader.core.errors import DatabaseBusyError, ResourceError
from loader.core.paths import data_dir, player_db_path, warehouse_db_path
from loader.core.resources import refusal, refusals, write_text_replacing
from loader.core.settings import settings
from loader.warehouse.dbt_runner import METADATA_FINGERPRINT_NAME, BuildOutcome, DbtProject, target_dir
from loader.warehouse.lake import LakeResult, create_lake_views, export_lake_locked, lake_dir, lake_lock
from loader.warehouse.players import PlayerFile, tracked_players

# Raw tables added after the first player databases were written (a database loaded before has none of them).
ADDED_RAW_TABLES = ("service_record_snapshots", "playlist_csr_snapshots", "profile_users")


def _lacks_raw_tables(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name "
                        "IN (SELECT unnest(?))", [list(ADDED_RAW_TABLES)]).fetchall()[0][0]
    return found < len(ADDED_RAW_TABLES)


# dbt-duckdb opens the player's file with no config options (profiles.yml's `settings` are SET on each cursor).
# A connection of this process opened with the same (none) shares its database instance: dbt's open of the file
# then costs nothing and the file is read (catalog, metadata) and checkpointed once per build.
DBT_DUCKDB_CONFIG: dict[str, object] = {}


@contextlib.contextmanager
def busy_checked(name: str, database: Path, what: str, upgrade: bool = False,
                 inspect: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
                 hold: bool = False) -> Iterator[tuple[BuildOutcome | None, duckdb.DuckDBPyConnection | None]]:
    """Yields (a failed outcome, None) when another process holds `database` (after the bounded wait), else
    (None, the connection when `hold`, else None).

    dbt needs the file for writing; a dashboard's read-only connection, a load or another build blocks it.
    Checked before dbt starts so the player gets this message instead of dbt's lock error. With `upgrade` (a
    player database), raw tables added since the database was loaded are created (empty), so its staging views
    find every source. `inspect` is called with the open connection (the file is opened once before dbt). With
    `hold`, that connection stays open until the block ends, with dbt-duckdb's config (DBT_DUCKDB_CONFIG): a dbt
    run inside the block opens the same database instance.
    """
    if not database.exists():
        yield None, None
        return
    try:
        con = connect_for_writing(database, what, config=DBT_DUCKDB_CONFIG if hold else None)
    except DatabaseBusyError as exc:
        yield BuildOutcome(name=name, errors=[f"{exc} Close the readers of this file (dashboards, notebooks, "
                                              "`duckdb` shells) and run halo build again."]), None
        return
    try:
        if upgrade and _lacks_raw_tables(con):
            from loader.ingest import raw_tables  # only then: a build does not import the loader's models

            for statement in raw_tables.create_statements():
                con.execute(statement)
        if inspect is not None:
            inspect(con)
        if not hold:
            con.close()
        yield None, (con if hold else None)
    finally:
        con.close()


def busy_outcome(name: str, database: Path, what: str) -> BuildOutcome | None:
    """busy_checked's outcome, the file closed again."""
    with busy_checked(name, database, what) as (busy, _):
        return busy


def stop_if_refused(outcome: BuildOutcome) -> BuildOutcome:
    """The outcome, unless dbt failed because the machine refused (a full disk, a read-only folder): every later
    player would fail the same way, so the build stops there with one line (`refusals` turns it into a
    ResourceError)."""
    if not outcome.success:
        refused = next((text for text in outcome.errors if refusal(OSError(text))), None)
        if refused is not None:
            raise OSError(refused)
    return outcome


def metadata_fingerprint(path: Path) -> str:
    """A digest of every stored reference document: it changes exactly when reference data changed."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT md5(coalesce(string_agg(kind || ':' || doc_id || ':' || sha256, ',' "
                           "ORDER BY kind, doc_id), '')) FROM raw.documents").fetchall()
    return rows[0][0]


def build_metadata_if_changed(project: DbtProject, root: Path) -> BuildOutcome | None:
    """Run the metadata build when the reference documents differ from the last successful build.

    One build of the metadata at a time (`building`): a second `halo build` waits for the first (bounded), then
    finds it built (nothing to do) or reports it busy."""
    path = require_metadata_db(root, models=False)
    try:
        with building(path, "metadata database"):
            return _build_metadata_if_changed(project, path)
    except DatabaseBusyError as exc:
        return BuildOutcome(name="metadata", errors=[str(exc)])


def _build_metadata_if_changed(project: DbtProject, path: Path) -> BuildOutcome | None:
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
    outcome = stop_if_refused(project.build_metadata())
    if outcome.success:
        write_text_replacing(stamp, current)  # never a half-written file (disk full)
    return outcome


# Builds of several players run in worker processes, one per core (at most 2 by default; HALO_BUILD_WORKERS sets the
# number, 1 = all in this process). dbt's per-node work is Python under one GIL, so a second process uses the
# second core. Workers get this process's parsed manifest (they do not parse). On Linux they are forked (as the
# load's workers; DuckDB connections of this process are closed by then); elsewhere spawned, which costs each an
# import of dbt (~2.5 s), so there it starts at 4 players.
START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"
PARALLEL_MIN_PLAYERS = 2 if START_METHOD == "fork" else 4


def build_workers(players: int) -> int:
    """How many processes build `players` players (HALO_BUILD_WORKERS, else the default above)."""
    asked = settings.build_workers
    if asked is not None:
        return max(1, min(asked, players))
    if players < PARALLEL_MIN_PLAYERS:
        return 1
    return max(1, min(2, os.cpu_count() or 1, players))


def build_one(project: DbtProject, player: PlayerFile, full: bool) -> BuildOutcome:
    """Build one player unless another process holds its file (another build: `building`; a reader or a load:
    `busy_checked`). The busy check's connection stays open while dbt builds (one open and one checkpoint of the
    file per build; see DBT_DUCKDB_CONFIG)."""
    what = f"player database of {player.gamertag!r}"
    # new reference data changes names in every row: the player's build state then no longer matches
    # (see DbtProject.fingerprint) and the build is a full one
    inputs: dict[str, str] = {}  # read in the busy check's connection (project.input_digests)
    project.manifest()  # parsed (or loaded) before the player's file is opened, not while the busy check holds it
    try:
        with building(player.database, what), busy_checked(
                player.gamertag, player.database, what, upgrade=True, hold=True,
                inspect=lambda con: inputs.update(project.input_digests(player.database, con))) as (busy, con):
            outcome = busy or project.build_player(player.gamertag, player.database, full=full, inputs=inputs, con=con)
    except DatabaseBusyError as exc:
        return BuildOutcome(name=player.gamertag, errors=[str(exc)])
    return stop_if_refused(outcome)


_worker: dict = {}


def _start_worker(root: Path, state: tuple[bytes, str], slots: "multiprocessing.queues.Queue[int]") -> None:
    project = DbtProject.from_parsed_state(root, state)
    project.artifacts_dir = target_dir() / "halo-workers" / str(slots.get())
    _worker["project"] = project


def _build_in_worker(job: tuple[int, PlayerFile, bool]) -> tuple[int, BuildOutcome]:
    index, player, full = job
    try:
        with refusals("halo build"):
            return index, build_one(_worker["project"], player, full)
    except ResourceError:
        raise  # the machine refused (disk full, read-only folder): the whole build stops with one line
    except Exception as exc:  # a worker reports, never takes the other players down with it
        return index, BuildOutcome(name=player.gamertag, errors=[f"build worker failed: {exc!r}"])


@refusals("halo build")
def build_players(
    gamertags: Sequence[str] | None,
    root: Path | None = None,
    on_player: Callable[[BuildOutcome], None] | None = None,
    full: bool = False,
    project: DbtProject | None = None,
    on_metadata: Callable[[BuildOutcome], None] | None = None,
) -> tuple[BuildOutcome | None, list[BuildOutcome]]:
    """Build the named players (or all when `gamertags` is None); one failure never stops the others.

    `full` forces a full `dbt build` (every model and test) even where an update would do (see dbt_runner);
    `project` lets a long-lived process reuse its parsed project. Several players are built by worker processes
    (see build_workers); outcomes are returned in the players' order, `on_player` is called as each finishes,
    `on_metadata` once the metadata build (when it was needed) finished, before any player starts.
    """
    root = root or data_dir()
    project = project or DbtProject(root)
    metadata = build_metadata_if_changed(project, root)
    if metadata is not None and on_metadata:
        on_metadata(metadata)
    if metadata is not None and not metadata.success:
        return metadata, []
    players = (tracked_players(root) if gamertags is None
               else [PlayerFile(g, player_db_path(g, root)) for g in gamertags])
    workers = build_workers(len(players))
    outcomes: list[BuildOutcome | None] = [None] * len(players)
    if workers == 1:
        for index, player in enumerate(players):
            outcomes[index] = build_one(project, player, full)
            if on_player:
                on_player(outcomes[index])
        return metadata, outcomes  # type: ignore[return-value]
    context = multiprocessing.get_context(START_METHOD)
    slots = context.Queue()
    for slot in range(1, workers + 1):
        slots.put(slot)
    state = project.parsed_state()  # parsed here once; the workers do not parse
    try:
        with context.Pool(workers, initializer=_start_worker, initargs=(root, state, slots)) as pool:
            jobs = [(index, player, full) for index, player in enumerate(players)]
            for index, outcome in pool.imap_unordered(_build_in_worker, jobs):
                outcomes[index] = outcome
                if on_player:
                    on_player(outcome)
            pool.close()  # workers exit normally (their dbt state cleaned up), not terminated
            pool.join()
    finally:
        slots.close()
        slots.join_thread()
    return metadata, outcomes  # type: ignore[return-value]


@refusals("halo build --warehouse")
def build_warehouse(root: Path | None = None, full: bool = False, project: DbtProject | None = None
                    ) -> tuple[BuildOutcome | None, LakeResult | None, BuildOutcome | None]:
    """Every tracked player's marts in one database: the metadata when it changed, the lake when a player (or the
    reference data) changed (`export_lake` finds out itself, reading nothing else when nothing did), the raw views
    over the lake, then one `dbt build --target warehouse`. (metadata outcome, lake export, warehouse outcome);
    the later ones are None when an earlier step failed."""
    root = root or data_dir()
    project = project or DbtProject(root)
    metadata = build_metadata_if_changed(project, root)
    if metadata is not None and not metadata.success:
        return metadata, None, None
    database = warehouse_db_path(root)
    what = "warehouse database"
    lake = None
    try:
        with lake_lock(root):  # the lake and the warehouse: one export or warehouse build at a time
            lake = export_lake_locked(root)
            busy = busy_outcome("warehouse", database, what)
            if busy is not None:
                return metadata, lake, busy
            con = connect_for_writing(database, what)
            try:
                create_lake_views(con, lake_dir(root))
            finally:
                con.close()
            outcome = stop_if_refused(project.build_warehouse(full=full, owners=lake.owners))
    except DatabaseBusyError as exc:
        return metadata, lake, BuildOutcome(name="warehouse", errors=[str(exc)])
    return metadata, lake, outcome
