"""`halo sync`: fetch what is new from the Halo Infinite API (SPNKr), load it, and report per player."""

import argparse
import asyncio

from rich.table import Table

from loader.cli.console import err, error_line, out
from loader.cli.exits import EXIT_OK, EXIT_REJECTED, EXIT_USAGE
from loader.core.errors import UsageError
from loader.ingest.load_matches import parse_xuid
from loader.sync import PlayerReport, SyncOptions, SyncReport, sync


def run(args: argparse.Namespace) -> int:
    """0 all done, 1 something failed (retried next time) or was rejected, 2 usage/auth."""
    players = None if args.all else list(args.player)
    if args.xuid and (players is None or len(players) != 1):
        raise UsageError("--xuid goes with exactly one --player (a first sync of that player)")
    xuid = parse_xuid(args.xuid) if args.xuid else None
    report = asyncio.run(sync(players, xuid=xuid, options=SyncOptions.from_env()))
    if players is None and not report.players and report.auth_error is None:
        err.print("no tracked players under HALO_DATA_DIR/players: start with halo sync --player GAMERTAG")
    if report.auth_error and not report.players:  # stopped at sign-in, before any player: that line is the report
        error_line(report.auth_error)
        return EXIT_USAGE
    print_report(report)
    return exit_code(report)


def exit_code(report: SyncReport) -> int:
    if report.auth_error or any(p.usage_error for p in report.players):
        return EXIT_USAGE
    ref = report.reference
    if any(p.error or p.failed or p.rejected for p in report.players) or ref.error or ref.failed or ref.rejected:
        return EXIT_REJECTED
    return EXIT_OK


def _status(player: PlayerReport) -> str:
    if player.error:
        return "ERROR"
    if player.failed or player.rejected:
        return "retry next sync" if player.failed else "rejected"
    return "ok"


def shared_text(player: PlayerReport) -> str:
    """What a player's sync took from other tracked players' databases instead of asking the API."""
    counts = [f"{player.shared.get(part, 0)} {name}" for part, name in
              (("stats", "match stats"), ("skill", "match skill"), ("film", "film highlights"))]
    absent = f"; {player.shared_absent} films/skill their syncs were told do not exist" if player.shared_absent else ""
    return (f"taken from other tracked players' databases: {', '.join(counts)}{absent}: "
            f"{player.calls_saved} API calls saved")


def print_report(report: SyncReport) -> None:
    table = Table(title="halo sync", title_justify="left")
    for column in ("player", "new", "matches", "skill", "films", "no film", "unavailable", "failed", "rejected",
                   "status"):
        table.add_column(column, justify="left" if column in ("player", "status") else "right")
    for p in report.players:
        table.add_row(p.gamertag, str(p.new_matches), str(p.matches_loaded), str(p.skills_loaded),
                      str(p.films_loaded), str(len(p.without_film)), str(len(p.unavailable)), str(len(p.failed)),
                      str(len(p.rejected)), _status(p))
    out.print(table)
    for p in report.players:
        if p.error:
            err.print(f"[red]{p.gamertag}:[/red] {p.error}")
        if p.recovered_files:
            out.print(f"{p.gamertag}: loaded {p.recovered_files} files left in the inbox by an interrupted sync")
        if p.calls_saved:
            out.print(f"{p.gamertag}: {shared_text(p)}")
        if p.career_rank:
            out.print(f"{p.gamertag}: career rank snapshot taken")
        for mid, error in sorted(p.failed.items()):
            err.print(f"{p.gamertag}: match {mid} failed, retried next sync: {error}")
        for mid in p.given_up:
            err.print(f"{p.gamertag}: match {mid} given up after repeated failures (see sync_state.json)")
        for line in p.rejected[:20] + p.notes:
            err.print(f"{p.gamertag}: {line}")
    ref = report.reference
    if report.players and not report.auth_error:
        out.print(f"reference: {len(ref.fetched)} fetched, {ref.loaded} loaded, {len(ref.unavailable)} not found "
                  f"(not asked again), {len(ref.failed)} failed (retried next sync)")
    for line in ref.failed + ref.rejected + ([ref.error] if ref.error else []):
        err.print(f"reference: {line}")
    saved = f"; {report.calls_saved} calls saved by shared matches" if report.calls_saved else ""
    out.print(f"{report.requests} requests ({report.retries} retried) in {report.seconds:.1f} s{saved}")
    if report.auth_error:
        error_line(report.auth_error)
