"""A dbt user's shell: `dbt debug` and `dbt build` from the project folder with the documented defaults. The real
`dbt build --target metadata` then `--target player` from the shell, as the README's "Running dbt directly" writes
it (HALO_DATA_DIR, HALO_PLAYER_DB, HALO_DBT_THREADS), with no `halo build` in between, is tests/test_marts.py's
fixture (its marts checked against the JSON there)."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import RESPONSES

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


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

