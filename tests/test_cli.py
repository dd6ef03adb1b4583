"""CLI conventions: `halo --version`, bare `halo` prints the help, every option has help text, and output to a
file or a pipe is never cut at a terminal's width."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from conftest import OWNER_XUID, RESPONSES, read_json

from loader.cli.main import build_load_paths_parser, build_parser

ROOT = Path(__file__).resolve().parents[1]


def halo(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loader.cli", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_version_and_bare_halo() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    proc = halo("--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"halo {version}")
    bare = halo()
    assert bare.returncode == 0
    assert bare.stdout.startswith("usage: halo ")
    assert "{load,build,lake,sync,demo,export,stats,report,sql,docs}" in bare.stdout


def test_every_option_has_help_text() -> None:
    missing = []

    def walk(parser, path: str) -> None:
        for action in parser._actions:
            if action.help is None and action.option_strings:
                missing.append(f"{path} {action.option_strings[0]}")
            if action.help is None and not action.option_strings and not action.choices:
                missing.append(f"{path} {action.dest}")
            for name, sub in (action.choices or {}).items() if isinstance(action.choices, dict) else ():
                walk(sub, f"{path} {name}")
    walk(build_parser(), "halo")
    walk(build_load_paths_parser(), "halo load PATH...")  # `halo load PATH...` has a parser of its own
    assert missing == []


def test_summary_to_a_pipe_keeps_whole_paths(tmp_path: Path) -> None:
    root = tmp_path / ("a-data-folder-whose-name-alone-is-longer-than-eighty-columns-" + "x" * 30)
    proc = halo("load", "matches", "--player", "Spartan001", "--xuid", str(OWNER_XUID),
                str(RESPONSES / "get_match_stats.json"), HALO_DATA_DIR=str(root))
    assert proc.returncode == 0, proc.stderr
    database = next(root.glob("players/*/stats.duckdb"))
    assert str(database) in proc.stdout  # on one line, not folded


def test_sql_reads_a_player_with_the_metadata_attached(tmp_path: Path) -> None:
    root = str(tmp_path / "data")
    assert halo("load", "reference", str(RESPONSES / "get_medal_metadata.json"), HALO_DATA_DIR=root).returncode == 0
    slayer = RESPONSES / "get_match_stats.json"
    assert halo("load", "matches", "--player", "Spartan001", "--xuid", str(OWNER_XUID), str(slayer),
                HALO_DATA_DIR=root).returncode == 0
    players = len(read_json(slayer)["Players"])
    medals = len(read_json(RESPONSES / "get_medal_metadata.json")["medals"])
    proc = halo("sql", "--player", "Spartan001", "SELECT count(*) AS players, (SELECT count(*) FROM meta.raw.medals) "
                "AS medals FROM raw.match_players", HALO_DATA_DIR=root)
    assert proc.returncode == 0, proc.stderr
    assert [line.split() for line in proc.stdout.splitlines() if line.strip("│ ").split("│")[0].strip().isdigit()] \
        == [["│", str(players), "│", str(medals), "│"]]
    missing = halo("sql", "--player", "Nobody", "SELECT 1", HALO_DATA_DIR=root)
    assert missing.returncode == 2 and missing.stderr.startswith("error: no player 'Nobody'")
