"""`halo build` under stress: killed mid-run (SIGKILL), and while a dashboard holds the player file.

- A build killed at any moment (during the metadata build, the player's dbt run, the archives) leaves
  files the next `halo build` opens and finishes: exit 0 and marts that agree with the raw layer.
- A build while another process keeps a read-only connection on the player database (a dashboard)
  fails for that player with a clear "busy" message naming what to do: exit 1, no traceback, and the
  file is untouched and still readable.
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import built_metadata

from loader.core.paths import player_db_path
from loader.demo import generate_player_matches
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference

GAMERTAG = "Build Safety Chief"
XUID = 2533274900000101
ROOT = Path(__file__).resolve().parents[1]


def halo(root: Path, *args: str, wait: float = 2, **extra_env: str) -> subprocess.Popen:
    env = dict(os.environ, HALO_DATA_DIR=str(root), HALO_LOCK_WAIT_SECONDS=str(wait), PYTHONPATH=str(ROOT),
               **extra_env)
    return subprocess.Popen([sys.executable, "-m", "loader.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    """Reference data and 150 matches of one player (skill, film events, career, history), not built yet."""
    manifest = generate_player_matches(tmp_path / "src", gamertag=GAMERTAG, xuid=XUID, n_matches=150, seed=5,
                                       film_share=0.2, with_reference=True)
    root = tmp_path / "data"
    load_reference([manifest.reference_dir], root=root)
    load_matches(GAMERTAG, [manifest.players[0][2]], xuid=XUID, root=root)
    return root


def assert_marts_agree_with_raw(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        raw = con.execute("SELECT count(*) FROM raw.matches").fetchall()[0][0]
        assert con.execute("SELECT count(*), count(DISTINCT match_id) FROM main.match_stats").fetchall() == [(raw, raw)]
        players = con.execute("SELECT count(*) FROM raw.match_players").fetchall()[0][0]
        assert con.execute("SELECT count(*) FROM main.match_participants").fetchall() == [(players,)]
        assert con.execute("SELECT sum(matches) FROM main.mv_map_stats").fetchall() == [(raw,)]


def test_build_killed_mid_run_then_the_next_build_succeeds(loaded: Path) -> None:
    seed = int(os.environ.get("HALO_CRASH_SEED", random.randrange(1 << 30)))
    print(f"HALO_CRASH_SEED={seed}")
    rng = random.Random(seed)
    db = player_db_path(GAMERTAG, loaded)
    # twice: early (parse / metadata build) and later (player models, tests, archives)
    for low, high in ((1.5, 4.0), (4.0, 12.0)):
        proc = halo(loaded, "build", "--player", GAMERTAG)
        time.sleep(rng.uniform(low, high))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    proc = halo(loaded, "build", "--player", GAMERTAG)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err
    assert "Traceback" not in err
    assert_marts_agree_with_raw(db)


def hold_read_only(db: Path) -> subprocess.Popen:
    """A dashboard: another process with a read-only connection on the file, kept open until the test kills it."""
    code = (f"import duckdb, time; c = duckdb.connect({str(db)!r}, read_only=True); "
            "c.execute('SELECT count(*) FROM raw.matches').fetchall(); print('reading', flush=True); time.sleep(3600)")
    reader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "reading"
    return reader


def test_build_while_a_reader_holds_the_player_file_says_busy(loaded: Path) -> None:
    # the metadata is not the subject: its build made once per test process (conftest.built_metadata), the fixture's
    # generated reference folder
    built_metadata(loaded, loaded.parent / "src" / "reference")
    db = player_db_path(GAMERTAG, loaded)
    size = db.stat().st_size
    reader = hold_read_only(db)
    try:
        proc = halo(loaded, "build", "--player", GAMERTAG, wait=1)
        out, err = proc.communicate(timeout=300)
    finally:
        reader.kill()
        reader.wait()
    assert proc.returncode == 1, out + err
    text = " ".join((out + err).split())
    assert "is busy" in text and "Close the readers" in text, text
    assert "Traceback" not in out + err
    assert db.stat().st_size == size
    with duckdb.connect(str(db), read_only=True) as con:  # untouched, readable, nothing built into it
        assert con.execute("SELECT count(*) FROM raw.matches").fetchall() == [(150,)]
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'"
                           ).fetchall() == [(0,)]


def test_all_players_built_by_two_workers_one_busy_player_does_not_stop_the_other(tmp_path: Path) -> None:
    """`halo build --all` with two build worker processes (HALO_BUILD_WORKERS=2): the player whose file a dashboard
    holds gets the busy message, the other one is built (marts agree with its raw layer), the exit code says one
    failed, and the next run builds the second one too."""
    root = tmp_path / "data"
    first, second = ("Worker One", 2533274900000201), ("Worker Two", 2533274900000202)
    for index, (gamertag, xuid) in enumerate((first, second)):
        manifest = generate_player_matches(tmp_path / f"src{index}", gamertag=gamertag, xuid=xuid, n_matches=60,
                                           seed=11 + index, film_share=0.2, with_reference=index == 0)
        if index == 0:  # the metadata is not the subject: built once per test process (conftest.built_metadata)
            built_metadata(root, manifest.reference_dir)
        load_matches(gamertag, [manifest.players[0][2]], xuid=xuid, root=root)
    busy_db = player_db_path(second[0], root)
    reader = hold_read_only(busy_db)
    try:
        proc = halo(root, "build", "--all", wait=1, HALO_BUILD_WORKERS="2")
        out, err = proc.communicate(timeout=600)
    finally:
        reader.kill()
        reader.wait()
    assert proc.returncode == 1, out + err
    text = " ".join((out + err).split())
    assert "is busy" in text and "Traceback" not in out + err, text
    assert_marts_agree_with_raw(player_db_path(first[0], root))
    with duckdb.connect(str(busy_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'"
                           ).fetchall() == [(0,)]
    proc = halo(root, "build", "--all", wait=10, HALO_BUILD_WORKERS="2")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err
    assert_marts_agree_with_raw(busy_db)
    # one line per player in the players' order (tracked_players sorts by folder name)
    assert out.index(first[0]) < out.index(second[0]), out
