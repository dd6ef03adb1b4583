"""`halo export --player GAMERTAG DIR`: every original document of a player, restorable with `halo load`."""

import argparse

from loader.cli.console import out
from loader.cli.exits import EXIT_OK
from loader.ingest.export import export_player


def run(args: argparse.Namespace) -> int:
    result = export_player(args.player, args.folder)
    out.print(f"exported {result.documents} documents ({result.rejected} rejected ones under rejected/) "
              f"of {result.gamertag} to {result.folder}")
    out.print(f"restore: halo load matches --player {result.gamertag!r} --xuid {result.owner_xuid} {result.folder}")
    return EXIT_OK
