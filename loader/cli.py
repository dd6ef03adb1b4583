"""`halo` command line: wires readers, writers and the dbt runner; no logic of its own.

Exit codes: 0 = everything loaded/built, 1 = something was rejected or failed
(the rest was done), 2 = usage error (bad arguments, missing paths, wrong owner, busy database).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from loader.dbt_runner import BuildOutcome
from loader.duckdb_files import DatabaseBusyError
from loader.errors import MetadataDatabaseMissingError, OwnerMismatchError, OwnerUnknownError, UsageError
from loader.paths import UnsafeNameError

if TYPE_CHECKING:
    from loader.raw_writer import LoadResult

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

    build = commands.add_parser("build", help="dbt build of players (metadata first when it changed), in-process")
    who = build.add_mutually_exclusive_group(required=True)
    who.add_argument("--player", nargs="+", metavar="GAMERTAG", help="one or more gamertags")
    who.add_argument("--all", action="store_true", help="every player under HALO_DATA_DIR/players")
    build.add_argument("--full", action="store_true",
                       help="rebuild everything from the raw layer (dbt build --full-refresh: every model and test)")

    sync = commands.add_parser("sync", help="fetch new matches from the Halo Infinite API (SPNKr) and load them")
    sync_who = sync.add_mutually_exclusive_group(required=True)
    sync_who.add_argument("--player", nargs="+", metavar="GAMERTAG", help="one or more gamertags")
    sync_who.add_argument("--all", action="store_true", help="every player under HALO_DATA_DIR/players")
    sync.add_argument("--xuid", help="the player's XUID on a first sync (default: looked up by gamertag)")

    demo = commands.add_parser("demo", help="generate demo players, load, build all, docs, summary")
    demo.add_argument("--players", type=int, default=3)
    demo.add_argument("--matches", type=int, default=300, help="matches per player")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--no-docs", action="store_true", help="skip dbt docs generate")

    export = commands.add_parser("export", help="write a player's original documents to a portable folder")
    export.add_argument("--player", required=True, help="the player's gamertag")
    export.add_argument("folder", type=Path, help="where to write (created)")

    docs = commands.add_parser("docs", help="dbt docs generate (and serve on localhost)")
    docs.add_argument("--player", help="player whose database the catalog is read from (default: the first)")
    docs.add_argument("--serve", action="store_true", help="serve the docs site on localhost")
    docs.add_argument("--port", type=int, default=8080)
    return parser


def run_build(args: argparse.Namespace) -> int:
    from loader.build import build_players

    def report(outcome: BuildOutcome) -> None:
        status = "[green]ok[/green]" if outcome.success else "[red]FAILED[/red]"
        err.print(f"built {outcome.name}: {status} ({outcome.mode} build) in {outcome.seconds:.1f} s" if outcome.success else
                  f"{outcome.name}: {status} after {outcome.seconds:.1f} s", soft_wrap=True)
        for message in outcome.errors[:5]:
            err.print(f"  {message}", soft_wrap=True)

    metadata, outcomes = build_players(None if args.all else args.player, on_player=report, full=args.full)
    if metadata is not None:
        report(metadata)
    width = max([len("player"), *(len(o.name) for o in outcomes)])
    out.print(f"{'player':<{width}}  {'matches':>7}  {'time':>8}  {'tests ok':>8}  {'failed':>6}  status",
              soft_wrap=True, highlight=False)
    for outcome in outcomes:
        status = f"ok ({outcome.mode})" if outcome.success else "FAILED"
        out.print(f"{outcome.name:<{width}}  {match_count(outcome.name)!s:>7}  {outcome.seconds:>6.1f} s  "
                  f"{outcome.tests_passed:>8}  {outcome.tests_failed:>6}  {status}", soft_wrap=True, highlight=False)
    failed = (metadata is not None and not metadata.success) or any(not o.success for o in outcomes)
    return EXIT_REJECTED if failed else EXIT_OK


def match_count(gamertag: str) -> int | str:
    """Matches in the player's built match_stats (after the build has released the file)."""
    import duckdb

    from loader.paths import player_db_path
    try:
        with duckdb.connect(str(player_db_path(gamertag)), read_only=True) as con:
            return con.execute("SELECT count(*) FROM main.match_stats").fetchall()[0][0]
    except duckdb.Error:
        return "-"


def run_docs(args: argparse.Namespace) -> int:
    from loader.build import tracked_players
    from loader.dbt_runner import DbtProject
    from loader.duckdb_files import require_metadata_db
    from loader.paths import player_db_path

    require_metadata_db()
    players = tracked_players()
    if args.player:
        database = player_db_path(args.player)
    elif players:
        database = players[0].database
    else:
        raise UsageError("no player loaded yet: load a player's matches first (the docs catalog reads one player)")
    outcome = DbtProject().docs_generate(database)
    if not outcome.success:
        err.print(f"[red]dbt docs generate failed:[/red] {'; '.join(outcome.errors)}", soft_wrap=True)
        return EXIT_REJECTED
    from loader.dbt_runner import PROJECT_DIR
    out.print(f"docs site: {PROJECT_DIR / 'target' / 'index.html'}")
    if args.serve:
        import subprocess
        return subprocess.call([sys.executable, "-m", "http.server", str(args.port), "--bind", "127.0.0.1",
                                "--directory", str(PROJECT_DIR / "target")])
    return EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    from loader.demo_pipeline import DOCS_INDEX, run_demo as demo
    from loader.paths import data_dir

    root = data_dir()
    err.print(f"halo demo: {args.players} players x {args.matches} matches into {root} ...")
    result = demo(root, players=args.players, matches_per_player=args.matches, seed=args.seed,
                  docs=not args.no_docs)
    by_name = {s.gamertag: s for s in result.summaries}
    for build in result.builds:
        s = by_name.get(build.name)
        out.print(f"[bold]{build.name}[/bold]: build {'ok' if build.success else 'FAILED'} in {build.seconds:.1f} s, "
                  f"{build.tests_passed} tests passed, {build.tests_failed} failed", soft_wrap=True)
        if s is None:
            continue
        win_rate = f"{s.win_rate:.0%}" if s.win_rate is not None else "-"
        out.print(f"  {s.matches} matches, win rate {win_rate}, most played map {s.top_map or '-'}", soft_wrap=True)
        if s.nemesis:
            out.print(f"  nemesis: {s.nemesis} (killed you {s.nemesis_kills} times)", soft_wrap=True)
        if s.best_teammate:
            out.print(f"  best teammate: {s.best_teammate} ({s.best_teammate_win_rate:.0%} wins together)",
                      soft_wrap=True)
    root_players = root / "players"
    out.print(f"player databases: {root_players}/<player-dir>/stats.duckdb")
    out.print(f"season archives:  {root_players}/<player-dir>/archive/season=<season>/")
    out.print(f"metadata:         {root / 'warehouse' / 'metadata.duckdb'}")
    if result.docs is not None:
        out.print(f"docs site:        {DOCS_INDEX}  (halo docs --serve to browse it)")
    out.print(f"demo documents:   {result.source_dir}   ({result.rejected} rejected) in {result.seconds:.0f} s")
    failed = [b for b in result.builds if not b.success]
    for build in failed:
        err.print(f"[red]build failed for {build.name}:[/red] {'; '.join(build.errors[:3])}", soft_wrap=True)
    docs_failed = result.docs is not None and not result.docs.success
    return EXIT_REJECTED if failed or result.rejected or docs_failed else EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    from loader.export import export_player

    try:
        result = export_player(args.player, args.folder)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    out.print(f"exported {result.documents} documents ({result.rejected} rejected ones under rejected/) "
              f"of {result.gamertag} to {result.folder}")
    out.print(f"restore: halo load matches --player {result.gamertag!r} --xuid {result.owner_xuid} {result.folder}")
    return EXIT_OK


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
    try:
        if args.command == "load":
            return run_load(args)
        if args.command == "build":
            return run_build(args)
        if args.command == "docs":
            return run_docs(args)
        if args.command == "export":
            return run_export(args)
        if args.command == "demo":
            return run_demo(args)
        if args.command == "sync":
            from loader.sync import run_sync
            return run_sync(args)
    except (UsageError, UnsafeNameError, OwnerMismatchError, OwnerUnknownError, DatabaseBusyError,
            MetadataDatabaseMissingError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return EXIT_USAGE
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
