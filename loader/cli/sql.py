"""`halo sql --player GAMERTAG [SQL]`: a read-only query on a player's warehouse, metadata attached as `meta`."""

import argparse
import sys

import duckdb
from rich.table import Table

from loader.cli.console import out
from loader.cli.exits import EXIT_OK, EXIT_REJECTED
from loader.core.errors import NotFoundError, UsageError
from loader.core.paths import metadata_db_path, player_db_path
from loader.warehouse.players import open_for_reading

MAX_ROWS = 1000


def run(args: argparse.Namespace) -> int:
    database = player_db_path(args.player)
    if not database.is_file():
        raise NotFoundError(f"no player {args.player!r} under {database.parent.parent}: load their matches first")
    sql = args.sql if args.sql is not None else sys.stdin.read()
    if not sql.strip():
        raise UsageError("no SQL given: pass a query, e.g. halo sql --player NAME \"SELECT * FROM mv_global_stats\"")
    try:
        con = open_for_reading(database, metadata_db_path())
    except duckdb.IOException as exc:
        raise NotFoundError(f"cannot open {database} for reading: {exc}") from None
    with con:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as exc:
            out.print(f"[red]query failed:[/red] {exc}", markup=True)
            return EXIT_REJECTED
        if cursor.description is None:
            return EXIT_OK
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchmany(MAX_ROWS + 1)
    table = Table(*columns, show_lines=False)
    for row in rows[:MAX_ROWS]:
        table.add_row(*("" if v is None else str(v) for v in row))
    out.print(table)
    if len(rows) > MAX_ROWS:
        out.print(f"(first {MAX_ROWS} rows shown)")
    return EXIT_OK
