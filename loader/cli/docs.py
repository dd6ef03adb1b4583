"""`halo docs [--serve]`: dbt docs generate against one player's database, and serve the site on localhost."""

import argparse
import errno
import functools
import http.server
from pathlib import Path

from loader.cli.console import err, out
from loader.cli.exits import EXIT_OK, EXIT_REJECTED
from loader.core.duckdb_files import require_metadata_db
from loader.core.errors import BusyError, NotFoundError
from loader.core.paths import player_db_path
from loader.warehouse.dbt_runner import DbtProject, target_dir
from loader.warehouse.players import tracked_players


def run(args: argparse.Namespace) -> int:
    require_metadata_db()
    players = tracked_players()
    if args.player:
        database = player_db_path(args.player)
        if not database.is_file():
            raise NotFoundError(f"no player {args.player!r} under {database.parent.parent}: load their matches first "
                                "(halo load matches --player ...) or name a loaded player")
    elif players:
        database = players[0].database
    else:
        raise NotFoundError("no player loaded yet: load a player's matches first (the docs catalog reads one player)")
    # the port is taken before the docs are generated: a port in use is said at once, not after the generation
    server = bind(target_dir(), args.port) if args.serve else None
    try:
        outcome = DbtProject().docs_generate(database)
        if not outcome.success:
            err.print(f"[red]dbt docs generate failed:[/red] {'; '.join(outcome.errors)}")
            return EXIT_REJECTED
        out.print(f"docs site: {target_dir() / 'index.html'}")
        if server is not None:
            serve(server, target_dir())
    finally:
        if server is not None:
            server.server_close()
    return EXIT_OK


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def bind(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    """A web server of `folder` bound to 127.0.0.1:`port`, not serving yet; a port in use is a BusyError."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BusyError(f"port {port} is already in use on 127.0.0.1: stop what uses it or give another with "
                            "--port") from None
        raise


def serve(server: http.server.ThreadingHTTPServer, folder: Path) -> None:
    """Serve in this process (so the server ends with `halo`: Ctrl-C, SIGTERM) until stopped."""
    out.print(f"serving {folder} on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops it)")
    server.serve_forever()
