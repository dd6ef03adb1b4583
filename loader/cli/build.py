"""`halo build`: the metadata (when it changed), then each player's `dbt build`, one line per player."""

import argparse
import contextlib
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from loader.cli.console import err, out
from loader.cli.exits import EXIT_OK, EXIT_REJECTED
from loader.cli.lake import report_lake
from loader.core.paths import metadata_db_path, player_db_path, warehouse_db_path
from loader.warehouse.assets import missing_assets
from loader.warehouse.build import build_players, build_warehouse
from loader.warehouse.dbt_runner import BuildOutcome
from loader.warehouse.players import built_match_count, tracked_players


def report(outcome: BuildOutcome) -> None:
    """One line as each player (or the metadata) finishes, and its first errors."""
    if outcome.success:
        err.print(f"built {outcome.name}: [green]ok[/green] ({outcome.mode} build) in {outcome.seconds:.1f} s")
    else:
        err.print(f"{outcome.name}: [red]FAILED[/red] after {outcome.seconds:.1f} s")
    for message in outcome.errors[:5]:
        err.print(f"  {message}", markup=False)
    for note in outcome.notes[:5]:  # warnings (tests at severity warn) and why an update became a full build
        err.print(f"  {note}", markup=False)


def run(args: argparse.Namespace) -> int:
    if args.warehouse:
        return run_warehouse(args)
    players = None if args.all else args.player
    expected = len(args.player) if players is not None else len(tracked_players())
    # a bar for several players (on a terminal), above the line each player prints as it finishes
    bar = (Progress(TextColumn("building"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                    transient=True) if expected > 1 else None)
    task = bar.add_task("build", total=expected) if bar else None

    def finished(outcome: BuildOutcome) -> None:
        report(outcome)
        if bar is not None:
            bar.advance(task)

    with bar or contextlib.nullcontext():
        metadata, outcomes = build_players(players, on_player=finished, full=args.full, on_metadata=report)
    width = max([len("player"), *(len(o.name) for o in outcomes)])
    out.print(f"{'player':<{width}}  {'matches':>7}  {'time':>8}  {'tests ok':>8}  {'failed':>6}  status")
    for outcome in outcomes:
        status = f"ok ({outcome.mode})" if outcome.success else "FAILED"
        matches = built_match_count(player_db_path(outcome.name))
        out.print(f"{outcome.name:<{width}}  {'-' if matches is None else matches!s:>7}  {outcome.seconds:>6.1f} s  "
                  f"{outcome.tests_passed:>8}  {outcome.tests_failed:>6}  {status}", markup=False)
    report_missing_names([player_db_path(o.name) for o in outcomes if o.success])
    failed = (metadata is not None and not metadata.success) or any(not o.success for o in outcomes)
    return EXIT_REJECTED if failed else EXIT_OK


def report_missing_names(databases: list[Path]) -> None:
    """Which assets of the built players' matches the metadata lacks (their names are null), and how to get them."""
    missing = missing_assets(databases, metadata_db_path())
    if not missing:
        return
    count = sum(len(ids) for ids in missing.values())
    err.print(f"names missing: {count} asset(s) used by these matches are not in the metadata database, so their "
              "names are null:")
    for kind, ids in missing.items():
        err.print(f"  {kind}: {', '.join(ids)}", markup=False)
    err.print("  get them with `halo sync` (it fetches missing assets), or load the asset files "
              "(`halo load reference FILES`), then run halo build again")


def run_warehouse(args: argparse.Namespace) -> int:
    """`halo build --warehouse`: the metadata (when it changed), the lake (when a player changed), one dbt build."""
    metadata, lake, outcome = build_warehouse(full=args.full)
    if metadata is not None:
        report(metadata)
    if lake is not None:
        report_lake(lake)
    if outcome is None:
        return EXIT_REJECTED
    report(outcome)
    if outcome.success:
        out.print(f"warehouse: {outcome.models} models, {outcome.tests_passed} tests ok, {outcome.tests_failed} "
                  f"failed, {lake.players if lake else 0} players in {warehouse_db_path()} ({outcome.seconds:.1f} s)",
                  markup=False)
    return EXIT_OK if outcome.success else EXIT_REJECTED
