"""`halo` command line: wires readers, writers and the dbt runner; no logic of its own.

Exit codes: 0 = everything loaded/built, 1 = something was rejected or failed
(the rest was done), 2 = usage error (bad arguments, missing paths, wrong owner, busy database).
"""

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from loader.duckdb_files import DatabaseBusyError
from loader.paths import UnsafeNameError
from loader.raw_writer import LoadResult
from loader.readers import UsageError

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
PROGRESS_THRESHOLD = 200  # files; shorter loads print only the summary

err = Console(stderr=True)
out = Console()


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage errors exit with EXIT_USAGE (argparse's own default is 2 as well)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        err.print(f"[red]error:[/red] {message}")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="halo", description="Halo Infinite stats warehouse (data root: HALO_DATA_DIR, "
                                                     "default ./data)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    load = commands.add_parser("load", help="validate API JSON and load it").add_subparsers(
        dest="what", required=True, parser_class=ArgumentParser)
    matches = load.add_parser("matches", help="match stats, history, skill, film highlights, career rank")
    matches.add_argument("--player", required=True, help="the player's gamertag (names their database)")
    matches.add_argument("--xuid", help="the player's XUID; required on the first load of a player")
    matches.add_argument("paths", nargs="+", type=Path, help="files or directories")
    reference = load.add_parser("reference", help="medals, maps, playlists, modes, career track, calendars")
    reference.add_argument("paths", nargs="+", type=Path, help="files or directories")
    return parser


def progress_callback(total_hint: int) -> tuple[Progress | None, Callable[[int, int], None] | None]:
    if total_hint < PROGRESS_THRESHOLD:
        return None, None
    bar = Progress(TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                   transient=True)
    task = bar.add_task("load", total=total_hint)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


def count_files(paths: Sequence[Path]) -> int:
    from loader.readers import iter_sources
    return sum(1 for _ in iter_sources(paths))


def print_summary(title: str, result: LoadResult) -> None:
    counts = result.counts
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(justify="left")
    table.add_column(justify="right")
    table.add_row("database", str(result.database))
    table.add_row("documents read", str(result.read))
    table.add_row("loaded (new)", str(counts.loaded))
    table.add_row("unchanged", str(counts.unchanged))
    table.add_row("replaced (newer copy)", str(counts.replaced))
    if counts.older_ignored:
        table.add_row("ignored (older copy)", str(counts.older_ignored))
    table.add_row("rejected", str(counts.rejected))
    table.add_row("time", f"{result.seconds:.2f} s")
    out.print(table)
    for rejection in result.rejections[:20]:
        where = f" match {rejection.match_id}" if rejection.match_id else ""
        out.print(f"[red]rejected[/red] {rejection.source.path}{where}: {rejection.reason}", soft_wrap=True)
    if len(result.rejections) > 20:
        out.print(f"... and {len(result.rejections) - 20} more: SELECT source_path, reason FROM raw.rejected")


def run_load(args: argparse.Namespace) -> int:
    total = count_files(args.paths)
    bar, callback = progress_callback(total)
    if args.what == "matches":
        from loader.load_matches import load_matches, parse_xuid
        xuid = parse_xuid(args.xuid) if args.xuid else None
        with bar or contextlib.nullcontext():
            result = load_matches(args.player, args.paths, xuid=xuid, progress=callback)
        print_summary(f"halo load matches --player {args.player}", result)
    else:
        from loader.load_reference import load_reference
        with bar or contextlib.nullcontext():
            result = load_reference(args.paths, progress=callback)
        print_summary("halo load reference", result)
    return EXIT_REJECTED if result.counts.rejected else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from loader.load_matches import OwnerMismatchError, OwnerUnknownError
    try:
        if args.command == "load":
            return run_load(args)
    except (UsageError, UnsafeNameError, OwnerMismatchError, OwnerUnknownError, DatabaseBusyError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return EXIT_USAGE
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
