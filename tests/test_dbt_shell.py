"""A dbt user's shell: `dbt debug` and `dbt build` from the project folder with the documented defaults, and a
real `dbt build --target metadata` then `--target player` from the shell as the README's "Running dbt directly"
writes it (HALO_DATA_DIR, HALO_PLAYER_DB, HALO_DBT_THREADS), with no `halo build` in between."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import MATCH_STATS_FILES, OWNER_XUID, REFERENCE, RESPONSES

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REFERENCE_API_FILES = [RESPONSES / f"get_{name}.json" for name in (
    "medal_metadata", "career_reward_track", "season_calendar", "csr_season_calendar", "playlist")]


def dbt(tmp: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("HALO_PLAYER_DB", "HALO_ARCHIVE_DIR", "HALO_DBT_THREADS")}
    env.update(HALO_DATA_DIR=str(tmp / "data"), DBT_TARGET_PATH=str(tmp / "target"), DBT_LOG_PATH=str(tmp / "logs"),
               DBT_SEND_ANONYMOUS_USAGE_STATS="false", **extra)
    return subprocess.run([str(BIN / "dbt"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def halo(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loader.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HALO_DATA_DIR": str(tmp / "data")})


def test_debug_works_and_build_names_the_variable_to_set(tmp_path: Path) -> None:
    loaded = halo(tmp_path, "load", "reference", str(RESPONSES / "get_medal_metadata.json"))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    debug = dbt(tmp_path, "debug")
    assert debug.returncode == 0, debug.stdout
    assert "All checks passed!" in debug.stdout and "Env var required" not in debug.stdout
    build = dbt(tmp_path, "build")
    assert build.returncode != 0
    assert "HALO_PLAYER_DB is not set: point it at a player's database" in build.stdout
    assert "Env var required" not in build.stdout
    assert "Concurrency: 4 threads" in build.stdout  # the documented default of HALO_DBT_THREADS


def test_dbt_build_from_the_shell_builds_the_metadata_then_a_player(tmp_path: Path) -> None:
    """The README's commands: `dbt build --target metadata`, then `dbt build --target player` with HALO_PLAYER_DB
    (the archive folder by default beside it) and HALO_DBT_THREADS=1; the player's marts hold every loaded match
    and the playlist name comes from the attached metadata. Expected values read from the JSON files."""
    assert halo(tmp_path, "load", "reference", *map(str, REFERENCE_API_FILES), str(REFERENCE)).returncode == 0
    loaded = halo(tmp_path, "load", "matches", "--player", "Shell Spartan", "--xuid", str(OWNER_XUID),
                  *map(str, MATCH_STATS_FILES))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    (db,) = (tmp_path / "data" / "players").glob("*/stats.duckdb")

    metadata = dbt(tmp_path, "build", "--target", "metadata")
    assert metadata.returncode == 0, metadata.stdout[-3000:]
    player = dbt(tmp_path, "build", "--target", "player", HALO_PLAYER_DB=str(db), HALO_DBT_THREADS="1")
    assert player.returncode == 0, player.stdout[-3000:]
    assert "Concurrency: 1 threads (target='player')" in player.stdout
    assert "ERROR=0" in player.stdout and "Env var required" not in player.stdout

    docs = [json.loads(path.read_bytes()) for path in MATCH_STATS_FILES]
    playlist = json.loads((RESPONSES / "get_playlist.json").read_bytes())
    on_playlist = {d["MatchId"] for d in docs if (d["MatchInfo"].get("Playlist") or {}).get("AssetId")
                   == playlist["AssetId"]}
    assert on_playlist
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT match_id) FROM main.match_stats").fetchall() == [
            (len(docs), len(docs))]
        names = con.execute("SELECT match_id, playlist_name FROM main.match_stats WHERE playlist_name IS NOT NULL"
                            ).fetchall()
    assert {str(m): n for m, n in names} == dict.fromkeys(on_playlist, playlist["PublicName"])
    assert any((db.parent / "archive").glob("season=*/*.parquet"))  # the archive default: beside the database
