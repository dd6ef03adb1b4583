"""`halo demo`: generate demo players, load, build, docs, and print what each player would read first."""

import argparse

from loader.cli.console import err, out
from loader.cli.exits import EXIT_OK, EXIT_REJECTED
from loader.core.paths import data_dir
from loader.demo.pipeline import run_demo
from loader.warehouse.dbt_runner import target_dir


def run(args: argparse.Namespace) -> int:
    root = data_dir()
    err.print(f"halo demo: {args.players} players x {args.matches} matches into {root} ...")
    result = run_demo(root, players=args.players, matches_per_player=args.matches, seed=args.seed,
                      docs=not args.no_docs)
    by_name = {s.gamertag: s for s in result.summaries}
    for build in result.builds:
        s = by_name.get(build.name)
        tests = (f"{build.tests_passed} tests passed, {build.tests_failed} failed" if build.mode == "full" else
                 "an update build: tests not run (they ran with the last full build; halo build --full runs them)")
        out.print(f"[bold]{build.name}[/bold]: {build.mode} build {'ok' if build.success else 'FAILED'} in "
                  f"{build.seconds:.1f} s, {tests}")
        if s is None:
            continue
        win_rate = f"{s.win_rate:.0%}" if s.win_rate is not None else "-"
        out.print(f"  {s.matches} PvP matchmade matches, win rate {win_rate}, most played map {s.top_map or '-'} "
                  f"(halo stats --player {build.name!r} shows more)")
        if s.nemesis:
            out.print(f"  nemesis: {s.nemesis} (killed you {s.nemesis_kills} times)")
        if s.best_teammate:
            out.print(f"  best teammate: {s.best_teammate} ({s.best_teammate_win_rate:.0%} wins together)")
    for report in result.reports:
        out.print(f"report of {report.gamertag}: {report.page}  (open it in a browser; halo report --player "
                  f"{report.gamertag!r} rewrites it)", markup=False)
    root_players = root / "players"
    out.print(f"player databases: {root_players}/<player-dir>/stats.duckdb")
    out.print(f"season archives:  {root_players}/<player-dir>/archive/season=<season>/")
    out.print(f"metadata:         {root / 'warehouse' / 'metadata.duckdb'}")
    if result.docs is not None:
        out.print(f"docs site:        {target_dir() / 'index.html'}  (halo docs --serve to browse it)")
    out.print(f"demo documents:   {result.source_dir}   ({result.rejected} rejected) in {result.seconds:.0f} s")
    failed = [b for b in result.builds if not b.success]
    for build in failed:
        err.print(f"[red]build failed for {build.name}:[/red] {'; '.join(build.errors[:3])}")
    docs_failed = result.docs is not None and not result.docs.success
    return EXIT_REJECTED if failed or result.rejected or docs_failed else EXIT_OK
