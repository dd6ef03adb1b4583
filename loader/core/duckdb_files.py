"""Opening DuckDB files for writing, with a bounded wait and a clear message when another process holds them."""

import logging
import time
from pathlib import Path

import duckdb

from loader.core.errors import DatabaseBusyError, MetadataDatabaseMissingError
from loader.core.paths import metadata_db_path
from loader.core.settings import settings

log = logging.getLogger(__name__)


def _is_lock_error(exc: duckdb.Error) -> bool:
    return "lock" in str(exc).lower()


def connect_for_writing(path: Path, what: str, wait_seconds: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating) a DuckDB file for writing.

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
            return duckdb.connect(str(path), config={"preserve_insertion_order": False})
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


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """First row or None. (In duckdb 2.0 `fetchone()` leaves the result open and blocks the connection.)"""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def require_metadata_db(root: Path | None = None, models: bool = True) -> Path:
    """The metadata DB path, or a clear error when reference data was never loaded (a player build needs it).

    `models=False` only requires the loaded reference data (`halo build` builds the models itself).
    """
    path = metadata_db_path(root)
    hint = "load reference data first (halo load reference PATH...), then build the metadata models " \
           "(dbt build --target metadata)"
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
