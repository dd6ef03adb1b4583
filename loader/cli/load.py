"""`halo load [matches|reference] PATH...`: validate documents and write them, with a progress bar and a summary."""

import argparse
import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from loader.cli.console import err, out
from loader.cli.exits import EXIT_OK, EXIT_REJECTED
from loader.ingest.documents import Skipped, iter_sources
from loader.ingest.load_any import AnyLoadResult, load_any
from loader.ingest.load_matches import load_matches, parse_xuid
from loader.ingest.load_reference import load_reference
from loader.ingest.writer import LoadResult

PROGRESS_THRESHOLD = 200  # files; shorter loads print only the summary


def progress_callback(total_hint: int) -> tuple[Progress | None, Callable[[int, int], None] | None]:
    """A bar on stderr for loads of PROGRESS_THRESHOLD files or more, and the callback that moves it: files parsed
    (per chunk of 100) and files written (per batch) both move it, never backwards. Each move redraws the bar at
    once (a chunk is 100 files, so this is a few redraws a second at most): a fast load still shows its steps,
    which the 4-per-second timer alone would skip."""
    if total_hint < PROGRESS_THRESHOLD:
        return None, None
    bar = Progress(TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                   transient=True, refresh_per_second=4)
    task = bar.add_task("load", total=total_hint)
    shown = [0]

    def move(done: int, total: int) -> None:
        shown[0] = max(shown[0], done)
        bar.update(task, completed=shown[0], total=total, refresh=True)
    return bar, move


def count_files(paths: Sequence[Path]) -> int:
    return sum(1 for _ in iter_sources(paths))


def print_summary(title: str, result: LoadResult) -> None:
    counts = result.counts
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(justify="left", overflow="fold")
    table.add_column(justify="right", overflow="fold")
    table.add_row("database", str(result.database))
    table.add_row("documents read", str(result.read))
    table.add_row("loaded (new)", str(counts.loaded))
    table.add_row("unchanged", str(counts.unchanged))
    table.add_row("replaced (newer copy)", str(counts.replaced))
    if counts.older_ignored:
        table.add_row("ignored (older copy)", str(counts.older_ignored))
    table.add_row("rejected", str(counts.rejected))
    if result.skipped:
        table.add_row("skipped (not read)", str(len(result.skipped)))
    table.add_row("time", f"{result.seconds:.2f} s")
    out.print(table)
    for rejection in result.rejections[:20]:
        where = f" match {rejection.match_id}" if rejection.match_id else ""
        out.print(f"[red]rejected[/red] {escape(rejection.source.path_text)}{where}: {escape(rejection.reason)}")
    if len(result.rejections) > 20:
        out.print(f"... and {len(result.rejections) - 20} more: SELECT source_path, reason FROM raw.rejected")
    for skipped in result.skipped[:20]:
        out.print(f"[yellow]skipped[/yellow] {escape(skipped.path_text)}: {escape(skipped.reason)}")
    if len(result.skipped) > 20:
        out.print(f"... and {len(result.skipped) - 20} more skipped")


def print_any_summary(args: argparse.Namespace, result: AnyLoadResult) -> None:
    player = f" --player {args.player}" if args.player else ""
    if result.player is not None:
        print_summary(f"halo load{player}: player documents", result.player)
    if result.reference is not None:
        print_summary("halo load: reference documents", result.reference)
    if result.player is None and result.reference is None:
        out.print("halo load: no document to store")
    print_not_stored(result.not_stored, "not stored")
    print_not_stored(result.skipped, "skipped")


def print_not_stored(items: Sequence[Skipped], label: str) -> None:
    for item in items[:20]:
        out.print(f"[yellow]{label}[/yellow] {escape(item.path_text)}: {escape(item.reason)}")
    if len(items) > 20:
        out.print(f"... and {len(items) - 20} more {label}")


def run(args: argparse.Namespace) -> int:
    total = count_files(args.paths)
    bar, callback = progress_callback(total)
    if args.what == "paths":
        xuid = parse_xuid(args.xuid) if args.xuid else None
        with bar or contextlib.nullcontext():
            any_result = load_any(args.paths, args.player, xuid=xuid, progress=callback)
        print_any_summary(args, any_result)
        return EXIT_REJECTED if any_result.problems else EXIT_OK
    if args.what == "matches":
        xuid = parse_xuid(args.xuid) if args.xuid else None
        with bar or contextlib.nullcontext():
            result = load_matches(args.player, args.paths, xuid=xuid, progress=callback, parsed=callback)
        print_summary(f"halo load matches --player {args.player}", result)
    else:
        with bar or contextlib.nullcontext():
            result = load_reference(args.paths, progress=callback)
        print_summary("halo load reference", result)
    return EXIT_REJECTED if result.counts.rejected or result.skipped else EXIT_OK
