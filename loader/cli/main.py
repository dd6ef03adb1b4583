"""`halo` command line: the parser, and the one place where errors become exit codes.

Each command lives in its own module of this package (`loader.cli.<command>`, a `run(args)` function); a command's
module is imported only when that command runs, so `halo build` does not import the loader's validation stack
(pydantic models, Polars, SPNKr) and `halo load` does not import dbt. Exit codes: `loader.cli.exits`.
"""

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from loader.cli.console import error_line, show_stage_logs
from loader.cli.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, exit_code_of
from loader.core.errors import HaloError

COMMAND_MODULES = {"load": "load", "build": "build", "docs": "docs", "export": "export", "demo": "demo",
                   "sync": "sync", "sql": "sql", "stats": "stats", "lake": "lake", "report": "report"}


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage errors end with our one error line and EXIT_USAGE."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        error_line(message)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="halo", description="Halo Infinite stats warehouse (data root: HALO_DATA_DIR, "
                                                     "default ./data)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('halo-warehouse')}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    load = commands.add_parser(
        "load", help="validate API JSON and load it",
        usage="halo load PATH... [--player GAMERTAG [--xuid XUID]]\n       halo load {matches,reference} ...",
        description="halo load PATH...: any files or folders of SPNKr responses; reference documents go to the "
                    "metadata database, player documents to the player's (--player; --xuid on the first load). "
                    "A first argument `matches` or `reference` is the sub-command: load a folder of that name as "
                    "./matches or matches/.").add_subparsers(dest="what", required=True, parser_class=ArgumentParser)
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
    who.add_argument("--warehouse", action="store_true",
                     help="every tracked player in one database, HALO_DATA_DIR/warehouse/warehouse.duckdb, from the "
                          "Parquet lake (halo lake first when a player changed)")
    build.add_argument("--full", action="store_true",
                       help="rebuild everything from the raw layer (dbt build --full-refresh: every model and test)")

    commands.add_parser("lake", help="export every tracked player's raw layer to the Parquet lake "
                                     "(HALO_DATA_DIR/warehouse/lake; only what changed is rewritten)")

    sync = commands.add_parser("sync", help="fetch new matches from the Halo Infinite API (SPNKr) and load them")
    sync_who = sync.add_mutually_exclusive_group(required=True)
    sync_who.add_argument("--player", nargs="+", metavar="GAMERTAG", help="one or more gamertags")
    sync_who.add_argument("--all", action="store_true", help="every player under HALO_DATA_DIR/players")
    sync.add_argument("--xuid", help="the player's XUID on a first sync (default: looked up by gamertag)")

    demo = commands.add_parser("demo", help="generate demo players, load, build all, docs, summary")
    demo.add_argument("--players", type=int, default=3, help="how many demo players (default 3)")
    demo.add_argument("--matches", type=int, default=300, help="matches per player (default 300)")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the generator (default 7)")
    demo.add_argument("--no-docs", action="store_true", help="skip dbt docs generate")

    export = commands.add_parser("export", help="write a player's original documents to a portable folder")
    export.add_argument("--player", required=True, help="the player's gamertag")
    export.add_argument("folder", type=Path, help="where to write (created)")

    stats = commands.add_parser("stats", help="one screen of a player's record from the built marts")
    stats.add_argument("--player", required=True, help="the player's gamertag")

    report = commands.add_parser("report", help="a self-contained HTML page of charts per player, from the marts")
    report_who = report.add_mutually_exclusive_group(required=True)
    report_who.add_argument("--player", nargs="+", metavar="GAMERTAG", help="one or more gamertags")
    report_who.add_argument("--all", action="store_true", help="every player under HALO_DATA_DIR/players")
    report.add_argument("--out", type=Path, metavar="DIR",
                        help="write <player-dir>.html into DIR (default: players/<player-dir>/report.html)")
    report.add_argument("--lang", choices=("en", "fr"), default="en", help="words and medal names (default en)")
    report.add_argument("--png", action="store_true", help="also a PNG of the summary charts, beside the page")

    sql = commands.add_parser("sql", help="run a read-only SQL query on a player's warehouse (metadata as `meta`)")
    sql.add_argument("--player", required=True, help="the player's gamertag")
    sql.add_argument("sql", nargs="?", help="the query (default: read from standard input)")

    docs = commands.add_parser("docs", help="dbt docs generate (and serve on localhost)")
    docs.add_argument("--player", help="player whose database the catalog is read from (default: the first)")
    docs.add_argument("--serve", action="store_true", help="serve the docs site on localhost")
    docs.add_argument("--port", type=int, default=8080, help="port of the docs server (default 8080)")
    return parser


LOAD_SUBCOMMANDS = ("matches", "reference", "-h", "--help")


def build_load_paths_parser() -> ArgumentParser:
    """`halo load PATH... [--player GAMERTAG --xuid XUID]`: the form without a sub-command."""
    parser = ArgumentParser(prog="halo load", description="load any files or folders of SPNKr responses: "
                                                          "reference documents to the metadata database, player "
                                                          "documents to the player's database")
    parser.add_argument("--player", help="the player's gamertag (needed when player documents are found)")
    parser.add_argument("--xuid", help="the player's XUID; required on the first load of a player")
    parser.add_argument("paths", nargs="+", type=Path, help="files or directories")
    parser.set_defaults(command="load", what="paths")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:
        parser.print_help()
        return EXIT_OK
    if arguments[0] == "load" and len(arguments) > 1 and arguments[1] not in LOAD_SUBCOMMANDS:
        args = build_load_paths_parser().parse_args(arguments[1:])
    else:
        args = parser.parse_args(arguments)
    show_stage_logs()
    try:
        command = importlib.import_module(f"loader.cli.{COMMAND_MODULES[args.command]}")
        return command.run(args)
    except HaloError as exc:
        error_line(str(exc))
        return exit_code_of(exc)
    except KeyboardInterrupt:
        error_line("interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
