"""Opening DuckDB files for writing, with a clear message when another process holds them."""

from pathlib import Path

import duckdb


class DatabaseBusyError(RuntimeError):
    """Another process (a load, a build, a dashboard) holds the DuckDB file."""


def connect_for_writing(path: Path, what: str) -> duckdb.DuckDBPyConnection:
    """Open (creating) a DuckDB file for writing; a lock held elsewhere becomes `DatabaseBusyError`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), config={"preserve_insertion_order": False})
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseBusyError(
                f"{what} {path} is busy: another process (halo load/build, dbt or a reader) has it open. "
                "DuckDB allows one writer per file: wait for it to finish, then run this again."
            ) from exc
        raise


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """First row or None. (In duckdb 2.0 `fetchone()` leaves the result open and blocks the connection.)"""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None
