"""Opening DuckDB files for writing, with a bounded wait and a clear message when another process holds them."""

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from loader.core.errors import DatabaseBusyError, MetadataDatabaseMissingError
from loader.core.paths import metadata_db_path
from loader.core.settings import settings

log = logging.getLogger(__name__)


def _is_lock_error(exc: duckdb.Error) -> bool:
    return "lock" in str(exc).lower()


# The loader's connections: its bulk writes need no insertion order (DuckDB then buffers less).
LOADER_CONFIG = {"preserve_insertion_order": False}


def connect_for_writing(path: Path, what: str, wait_seconds: float | None = None,
                        config: dict[str, object] | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating) a DuckDB file for writing, with `config` (default LOADER_CONFIG).

    DuckDB allows one writing process per file. If another process holds it, wait up to
    `wait_seconds` (default `HALO_LOCK_WAIT_SECONDS`, 10 s), saying so once, then raise
    `DatabaseBusyError` with what to do. The file is never touched while it is busy.
    """
    if wait_seconds is None:
        wait_seconds = settings.lock_wait_seconds
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            return duckdb.connect(str(path), config=dict(LOADER_CONFIG if config is None else config))
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusyError(
                    f"{what} {path} is busy: another process (halo load/build, dbt or a reader) has it open. "
                    f"DuckDB allows one writer per file; waited {wait_seconds:.0f} s. Run this again when it "
                    f"has finished (or set HALO_LOCK_WAIT_SECONDS to wait longer)."
                ) from exc
            if not told:
                log.warning("waiting up to %.0f s for %s: another process has it open", wait_seconds, path)
                told = True
            time.sleep(0.25)


@contextlib.contextmanager
def building(path: Path, what: str, wait_seconds: float | None = None, command: str = "halo build") -> Iterator[None]:
    """Hold the one build of the DuckDB file `path` (metadata or a player): a lock on its folder, for the whole build.

    DuckDB's own lock only lasts while a connection is open, and a build opens and closes several (the busy check,
    dbt's run): a second `halo build` could start dbt between them and fail inside it. So builds take this lock
    first: a second build of the same file waits up to `wait_seconds` (default `HALO_LOCK_WAIT_SECONDS`), saying so
    once, then raises `DatabaseBusyError`. An advisory lock (flock) on the folder: nothing is created, a read-only
    folder can be locked, and the lock goes with the process. Where there is no flock (Windows) this does nothing.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    if not path.parent.is_dir():  # nothing to build (the build says so)
        yield
        return
    if wait_seconds is None:
        wait_seconds = settings.lock_wait_seconds
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseBusyError(
                        f"{what} {path} is busy: another {command} is building it; waited {wait_seconds:.0f} s. "
                        f"Run {command} again when it has finished (or set HALO_LOCK_WAIT_SECONDS to wait "
                        f"longer).") from None
                if not told:
                    log.warning("waiting up to %.0f s for %s: another %s is building it", wait_seconds, path, command)
                    told = True
                time.sleep(0.25)
        yield
    finally:
        os.close(fd)


def read_only_rows(path: Path, *statements: str | tuple[str, list]) -> list[list[tuple]]:
    """Rows of read-only queries on one connection; [] for each when the database or a table does not exist yet.
    A statement is SQL text or (SQL, parameters)."""
    if not path.is_file():
        return [[] for _ in statements]
    out = []
    with duckdb.connect(str(path), read_only=True) as con:
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, [])
            try:
                out.append(con.execute(sql, params).fetchall())   # fetchall: duckdb 2.0's fetchone keeps it open
            except duckdb.CatalogException:
                out.append([])
    return out


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """First row or None. (In duckdb 2.0 `fetchone()` leaves the result open and blocks the connection.)"""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def require_metadata_db(root: Path | None = None, models: bool = True) -> Path:
    """The metadata DB path, or a clear error when reference data was never loaded (a player build needs it).

    `models=False` only requires the loaded reference data (`halo build` builds the models itself).
    """
    path = metadata_db_path(root)
    hint = ("load reference data first (halo load reference PATH..., or halo sync, which fetches it), then run "
            + ("halo build again" if not models else "halo build (it builds the metadata models)"))
    if not path.is_file():
        raise MetadataDatabaseMissingError(f"no metadata database at {path}: {hint}")
    if not models:
        return path
    with duckdb.connect(str(path), read_only=True) as con:
        built = fetch_one(con, "SELECT count(*) FROM information_schema.tables "
                               "WHERE table_schema = 'main' AND table_name = 'medal_definitions'")
    if not built or built[0] == 0:
        raise MetadataDatabaseMissingError(f"metadata database {path} has no metadata models yet: {hint}")
    return path
