"""`halo report`: one self-contained HTML page of charts per player (players/<player-dir>/report.html)."""

import argparse

from loader.cli.console import err, error_line, out
from loader.cli.exits import EXIT_OK, EXIT_REJECTED, exit_code_of
from loader.core.errors import HaloError, NotFoundError
from loader.report.page import report_player
from loader.warehouse.players import tracked_players


def run(args: argparse.Namespace) -> int:
    gamertags = [p.gamertag for p in tracked_players()] if args.all else args.player
    if not gamertags:
        raise NotFoundError("no tracked players yet: load a player's matches first (halo load --player ...)")
    codes = []
    for gamertag in gamertags:
        try:
            files = report_player(gamertag, out_dir=args.out, lang=args.lang, png=args.png)
        except HaloError as exc:
            if len(gamertags) == 1:
                raise
            error_line(str(exc))  # one player's failure does not stop the others
            codes.append(exit_code_of(exc))
            continue
        out.print(f"{gamertag}: {files.page} ({files.charts} charts, {files.page_bytes / 1e6:.1f} MB)", markup=False)
        if files.png is not None:
            out.print(f"{gamertag}: {files.png} (summary picture)", markup=False)
    if codes:
        err.print(f"{len(codes)} of {len(gamertags)} reports not written")
        return EXIT_REJECTED
    return EXIT_OK
