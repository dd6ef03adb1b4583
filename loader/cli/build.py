"""`halo build`: the metadata (when it changed), then each player's `dbt build`, one line per player."""

import argparse

from loader.cli.console import err, out
from loader.cli.exits import EXIT_OK, EXIT_REJECTED
from loader.core.paths import player_db_path
from loader.warehouse.build import build_players
from loader.warehouse.dbt_runner import BuildOutcome
from loader.warehouse.players import built_match_count


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
    metadata, outcomes = build_players(None if args.all else args.player, on_player=report, full=args.full)
    if metadata is not None:
        report(metadata)
    width = max([len("player"), *(len(o.name) for o in outcomes)])
    out.print(f"{'player':<{width}}  {'matches':>7}  {'time':>8}  {'tests ok':>8}  {'failed':>6}  status")
    for outcome in outcomes:
        status = f"ok ({outcome.mode})" if outcome.success else "FAILED"
        matches = built_match_count(player_db_path(outcome.name))
        out.print(f"{outcome.name:<{width}}  {'-' if matches is None else matches!s:>7}  {outcome.seconds:>6.1f} s  "
                  f"{outcome.tests_passed:>8}  {outcome.tests_failed:>6}  {status}", markup=False)
    failed = (metadata is not None and not metadata.success) or any(not o.success for o in outcomes)
    return EXIT_REJECTED if failed else EXIT_OK
