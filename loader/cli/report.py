"""`halo report`: one self-contained HTML page of charts per player (players/<player-dir>/report.html)."""

import argparse

from loader.cli.console import err, error_line, out
from loader.cli.exits import EXIT_OK, EXIT_REJECTED, exit_code_of
from loader.core.errors import HaloError, NotFoundError
from loader.report.page import report_player, report_time_zone
from loader.warehouse.players import tracked_players


def run(args: argparse.Namespace) -> int:
    # --all: each tracked file as it is (a busy or damaged one is named by its folder, not a gamertag to hash)
    players = [(p.gamertag, p.database) for p in tracked_players()] if args.all else [(g, None) for g in args.player]
    if not players:
        raise NotFoundError("no tracked players yet: load a player's matches first (halo load --player ...)")
    gamertags = [gamertag for gamertag, _ in players]
    time_zone = report_time_zone(args.tz)  # checked once, before any player
    codes = []
    for gamertag, database in players:
        try:
            files = report_player(gamertag, out_dir=args.out, lang=args.lang, png=args.png, database=database,
                                  time_zone=time_zone)
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
