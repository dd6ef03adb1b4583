"""Concurrent writers: a busy player database gives a clear message (or a bounded wait), never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import OWNER_XUID, RESPONSES, read_json

from loader.core.paths import player_db_path

HALO = [sys.executable, "-m", "loader.cli"]
SLAYER = RESPONSES / "get_match_stats.json"
CTF = RESPONSES / "get_match_stats_ctf.json"


def halo(args: list[str], root: Path, wait: float) -> subprocess.Popen:
    env = dict(os.environ, HALO_DATA_DIR=str(root), HALO_LOCK_WAIT_SECONDS=str(wait))
    return subprocess.Popen([*HALO, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def hold_lock(db: Path, seconds: float) -> subprocess.Popen:
    """Another process that keeps the player's file open for writing (as a long load or build would)."""
    code = (f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('held', flush=True); "
            f"time.sleep({seconds})")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def first_load(root: Path) -> Path:
    proc = halo(["load", "matches", "--player", "Spartan001", "--xuid", str(OWNER_XUID), str(SLAYER)], root, 0)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    return player_db_path("Spartan001", root)


def test_second_writer_fails_clearly_when_the_wait_runs_out(tmp_path: Path) -> None:
    db = first_load(tmp_path)
    holder = hold_lock(db, 30)
    try:
        proc = halo(["load", "matches", "--player", "Spartan001", str(CTF)], tmp_path, 1)
        _, stderr = proc.communicate(timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2
    assert "is busy" in stderr and "HALO_LOCK_WAIT_SECONDS" in stderr
    assert "Traceback" not in stderr
    with duckdb.connect(str(db), read_only=True) as con:  # untouched and readable
        assert con.execute("SELECT match_id FROM raw.matches").fetchall() == [(read_json(SLAYER)["MatchId"],)]


def test_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    db = first_load(tmp_path)
    code = f"import duckdb, sys; c = duckdb.connect({str(db)!r}); print('held', flush=True); sys.stdin.readline()"
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    proc = halo(["load", "matches", "--player", "Spartan001", str(CTF)], tmp_path, 300)
    waiting = proc.stderr.readline()  # the loader says it waits, while the first writer still holds the file
    assert "waiting up to 300 s" in waiting
    holder.communicate("release\n", timeout=60)  # the first writer finishes
    _, rest = proc.communicate(timeout=300)
    assert proc.returncode == 0, waiting + rest
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.matches").fetchall() == [(2,)]


def test_two_players_load_in_parallel(tmp_path: Path) -> None:
    procs = [halo(["load", "matches", "--player", name, "--xuid", str(OWNER_XUID), str(SLAYER), str(CTF)], tmp_path, 0)
             for name in ("Spartan001", "Spartan001 alt")]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    for name in ("Spartan001", "Spartan001 alt"):
        with duckdb.connect(str(player_db_path(name, tmp_path)), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM raw.matches").fetchall() == [(2,)]
