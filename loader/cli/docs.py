"""`halo docs [--serve]`: dbt docs generate against one player's database, and serve the site on localhost."""

import argparse
import subprocess
import sys

from loader.cli.console import err, out
from loader.cli.exits import EXIT_OK, EXIT_REJECTED
from loader.core.duckdb_files import require_metadata_db
from loader.core.errors import NotFoundError
from loader.core.paths import player_db_path
from loader.warehouse.dbt_runner import DbtProject, target_dir
from loader.warehouse.players import tracked_players


def run(args: argparse.Namespace) -> int:
    require_metadata_db()
    players = tracked_players()
    if args.player:
        database = player_db_path(args.player)
    elif players:
        database = players[0].database
    else:
        raise NotFoundError("no player loaded yet: load a player's matches first (the docs catalog reads one player)")
    outcome = DbtProject().docs_generate(database)
    if not outcome.success:
        err.print(f"[red]dbt docs generate failed:[/red] {'; '.join(outcome.errors)}")
        return EXIT_REJECTED
    out.print(f"docs site: {target_dir() / 'index.html'}")
    if args.serve:
        return subprocess.call([sys.executable, "-m", "http.server", str(args.port), "--bind", "127.0.0.1",
                                "--directory", str(target_dir())])
    return EXIT_OK
