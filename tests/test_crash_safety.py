"""Crash safety of `halo load`: SIGKILL at random points of a large load never corrupts the warehouse.

A player's history is loaded as a sequence of `halo load` runs, one folder each; every run is one
transaction. Runs are killed (SIGKILL) at random moments: before the database is opened, between
batches, in the middle of writing one. After each kill the database (DuckDB replays its WAL on the
next open) must hold exactly the documents of the runs that completed, with every raw table's rows
matching what those files contain; rerunning the killed load completes it, with no duplicates.

The seed of the random kill moments is printed; set HALO_CRASH_SEED to replay one.
"""

import datetime as dt
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from loader.core.paths import player_db_path
from loader.demo import generate_player_matches
from loader.ingest.raw_tables import PRIMARY_KEYS

GAMERTAG = "Crash Test Chief"
XUID = 2533274900000101
ROOT = Path(__file__).resolve().parents[1]
# A load with small batches (many batches per transaction), reporting each written batch on stdout.
SMALL_BATCH_LOADER = """
import sys
from pathlib import Path
import loader.ingest.load_matches as lm
lm.BATCH_SIZE = int(sys.argv[1])
import time
pause = float(sys.argv[6])
def progress(done, total):  # called inside the transaction, after each written batch
    print(f"batch {done}/{total}", flush=True)
    time.sleep(pause)
lm.load_matches(sys.argv[2], [Path(sys.argv[4])], xuid=int(sys.argv[3]), root=Path(sys.argv[5]), progress=progress)
print("done", flush=True)
"""
TYPED_TABLES = [t for t in PRIMARY_KEYS if t not in ("documents", "rejected")]


def expected_contents(files: list[Path]) -> dict[str, object]:
    """What a set of files holds, read with plain json: documents per kind and rows per raw table."""
    docs: Counter = Counter()
    rows: Counter = Counter()
    match_ids: set[str] = set()
    history: set[str] = set()
    for path in files:
        doc = json.loads(path.read_bytes())
        if path.name.startswith("skill_"):
            docs["match_skill"] += 1
            rows["match_skill"] += len(doc["Value"])
        elif path.name.startswith("career_rank_"):
            docs["career_rank"] += 1
            rows["career_rank_snapshots"] += 1
        elif path.name.startswith("history_"):
            docs["match_history"] += 1
            history.update(r["MatchId"] for r in doc["Results"])
        elif path.name.endswith(".highlights.json"):
            docs["highlight_events"] += 1
            rows["highlight_events"] += len(doc["Events"])
        else:
            docs["match_stats"] += 1
            match_ids.add(doc["MatchId"])
            rows["matches"] += 1
            rows["match_players"] += len(doc["Players"])
            rows["match_teams"] += len(doc["Teams"])
    rows["match_history"] = len(history)
    return {"docs": dict(docs), "rows": rows, "match_ids": match_ids}


def db_contents(db: Path) -> dict[str, object]:
    """The same view of the player DB (opening it replays a WAL left by a killed process)."""
    with duckdb.connect(str(db)) as con:
        docs = dict(con.execute("SELECT kind, count(*) FROM raw.documents GROUP BY kind").fetchall())
        rows = Counter()
        for table in TYPED_TABLES:
            key = ", ".join(PRIMARY_KEYS[table])
            total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({key})) FROM raw.{table}").fetchall()[0]
            assert total == distinct, f"duplicate primary keys in raw.{table}"
            rows[table] = total
        match_ids = {m for (m,) in con.execute("SELECT match_id FROM raw.matches").fetchall()}
        assert con.execute("SELECT count(*) FROM raw.rejected").fetchall() == [(0,)]
        orphans = con.execute("SELECT count(*) FROM raw.match_players WHERE match_id NOT IN "
                              "(SELECT match_id FROM raw.matches)").fetchall()
        assert orphans == [(0,)]
    return {"docs": docs, "rows": rows, "match_ids": match_ids}


def assert_holds_exactly(db: Path, files: list[Path]) -> None:
    got, want = db_contents(db), expected_contents(files)
    assert got["docs"] == want["docs"]
    assert got["match_ids"] == want["match_ids"]
    for table in ("matches", "match_players", "match_teams", "match_skill", "highlight_events",
                  "career_rank_snapshots", "match_history"):
        assert got["rows"][table] == want["rows"][table], table


def holds_exactly(db: Path, files: list[Path]) -> bool:
    try:
        assert_holds_exactly(db, files)
    except AssertionError:
        return False
    return True


def env(root: Path) -> dict[str, str]:
    return dict(os.environ, HALO_DATA_DIR=str(root), HALO_LOCK_WAIT_SECONDS="30", PYTHONPATH=str(ROOT))


def halo_load(root: Path, *folders: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "loader.cli", "load", "matches", "--player", GAMERTAG,
                             "--xuid", str(XUID), *map(str, folders)], cwd=ROOT, env=env(root),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def small_batch_load(root: Path, folder: Path, batch: int, pause: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SMALL_BATCH_LOADER, str(batch), GAMERTAG, str(XUID), str(folder),
                             str(root), str(pause)], cwd=ROOT, env=env(root), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def kill(proc: subprocess.Popen) -> bool:
    """SIGKILL; True when the process was still running (else it had finished first)."""
    running = proc.poll() is None
    if running:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    return running and proc.returncode == -signal.SIGKILL


def run_to_completion(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return out


@pytest.fixture(scope="module")
def chunks(tmp_path_factory: pytest.TempPathFactory) -> list[list[Path]]:
    """A realistic player (1,200 matches: stats, skill, film events, career snapshots, history pages: 2,272
    files) split into three folders of mixed documents (hard links: the files keep their times)."""
    base = tmp_path_factory.mktemp("crash_source")
    manifest = generate_player_matches(base / "gen", gamertag=GAMERTAG, xuid=XUID, n_matches=1200, seed=11,
                                       film_share=0.1)
    files = sorted(p for p in manifest.players[0][2].iterdir() if p.is_file())
    random.Random(5).shuffle(files)
    out = []
    for i in range(3):
        folder = base / f"chunk{i}"
        folder.mkdir()
        part = files[i::3]
        for path in part:
            os.link(path, folder / path.name)
        out.append(sorted(folder.iterdir()))
    return out


def test_sigkill_at_random_points_keeps_exactly_the_committed_loads(tmp_path: Path, chunks: list[list[Path]]) -> None:
    seed = int(os.environ.get("HALO_CRASH_SEED", random.randrange(1 << 30)))
    print(f"HALO_CRASH_SEED={seed}")
    rng = random.Random(seed)
    root = tmp_path / "data"
    db = player_db_path(GAMERTAG, root)
    folders = [files[0].parent for files in chunks]
    committed: list[Path] = []
    killed_pids: list[int] = []

    # 1. chunk 0 loads completely (the committed history), timed for the random kill moments below
    started = time.monotonic()
    run_to_completion(halo_load(root, folders[0]))
    full = time.monotonic() - started
    committed += chunks[0]
    assert_holds_exactly(db, committed)

    # 2. `halo load` of chunk 1 killed at random moments (start-up, reading, writing, after its commit),
    #    up to three times: each time the DB holds all of chunk 1 or none of it
    kills = 0
    for _ in range(3):
        proc = halo_load(root, folders[1])
        time.sleep(rng.uniform(0.05, full * 0.95))
        killed = kill(proc)
        kills += killed
        killed_pids.append(proc.pid)
        if killed and not holds_exactly(db, committed):
            # killed after its COMMIT (printing the summary, shutting down): then all of it is there
            assert_holds_exactly(db, committed + chunks[1])
        if not killed or holds_exactly(db, committed + chunks[1]):
            assert not killed or proc.returncode == -signal.SIGKILL
            committed += chunks[1]
            break

    # 3. chunk 2 with batches of 100 files, killed right after a random number of batches was written
    #    inside the transaction (and a random moment later, mid-batch)
    #    (the loader pauses 0.2 s after each batch so that the kill lands inside the open transaction)
    batches = -(-len(chunks[2]) // 100)
    for _ in range(2):
        proc = small_batch_load(root, folders[2], 100, pause=0.2)
        after = rng.randint(1, batches - 2)
        for _ in range(after):
            line = proc.stdout.readline()
            assert line.startswith("batch"), (line, proc.stderr.read())
        time.sleep(rng.uniform(0, 0.15))
        assert kill(proc), "the load finished before the kill"
        kills += 1
        killed_pids.append(proc.pid)
        assert_holds_exactly(db, committed)  # none of the batches written by the killed load

    # 4. reruns complete everything, nothing twice
    if chunks[1][0] not in committed:
        run_to_completion(halo_load(root, folders[1]))
        committed += chunks[1]
    run_to_completion(small_batch_load(root, folders[2], 100))
    committed += chunks[2]
    assert_holds_exactly(db, committed)
    out = run_to_completion(halo_load(root, *folders))  # everything again: nothing new
    assert re.search(r"loaded \(new\)\D+0\D", out) and re.search(rf"unchanged\D+{sum(map(len, chunks))}\D", out), out
    assert_holds_exactly(db, committed)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.documents").fetchall() == [(sum(map(len, chunks)),)]
    assert kills >= 2
    # the workers' result folders of the killed loads (in memory, /dev/shm) were removed by the later loads
    from loader.ingest.load_matches import RESULT_DIR_PREFIX, _result_base

    left = [e.name for e in os.scandir(_result_base()) if e.name.startswith(RESULT_DIR_PREFIX)
            and int(e.name[len(RESULT_DIR_PREFIX):].split("-", 1)[0]) in killed_pids]
    assert left == []


# ------------------------------------------------------------------ batches by bytes, errors mid-load, memory


def table_hashes(db: Path) -> dict[str, tuple]:
    """Content of every raw table (row count and an order-free hash), load timestamps excluded."""
    with duckdb.connect(str(db), read_only=True) as con:
        out = {}
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = 'raw' ORDER BY 1").fetchall():
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? "
                "ORDER BY ordinal_position", [table]).fetchall() if c not in ("loaded_at", "rejected_at", "created_at")]
            row = ", ".join(f'"{c}"' for c in columns)
            out[table] = con.execute(f"SELECT count(*), sum(hash(row({row}))::HUGEINT) FROM raw.{table}").fetchall()[0]
    return out


def test_batch_plan_bounds_files_and_bytes() -> None:
    from loader.ingest.load_matches import batch_plan

    assert batch_plan([], 3, 100) == []
    assert batch_plan([10] * 7, 3, 1000) == [(0, 3), (3, 6), (6, 7)]
    assert batch_plan([40, 40, 40, 10, 90, 5], 10, 100) == [(0, 2), (2, 4), (4, 6)]
    assert batch_plan([500, 1, 500], 10, 100) == [(0, 1), (1, 2), (2, 3)]  # a file larger than a batch: alone
    plan = batch_plan([7, 3, 9, 1, 4, 6, 2, 8] * 50, 17, 60)
    assert [i for a, b in plan for i in range(a, b)] == list(range(400))  # every file once, in order
    assert all(b - a <= 17 for a, b in plan)


def test_an_error_mid_load_leaves_the_database_as_before_and_batch_sizes_do_not_change_content(
        tmp_path: Path, chunks: list[list[Path]], monkeypatch: pytest.MonkeyPatch) -> None:
    import loader.ingest.load_matches as lm

    folders = [files[0].parent for files in chunks[:2]]
    reference = tmp_path / "reference"
    lm.load_matches(GAMERTAG, folders, xuid=XUID, root=reference)  # default batches
    want = table_hashes(player_db_path(GAMERTAG, reference))

    root = tmp_path / "data"
    db = player_db_path(GAMERTAG, root)
    lm.load_matches(GAMERTAG, folders[:1], xuid=XUID, root=root)
    before = table_hashes(db)
    monkeypatch.setattr(lm, "BATCH_BYTES", 600_000)  # many batches (by bytes) in the load's one transaction
    written: list[int] = []

    def fail_after_three(done: int, total: int) -> None:
        written.append(done)
        if len(written) == 3:
            raise RuntimeError("failure in the middle of a load")

    with pytest.raises(RuntimeError, match="middle of a load"):
        lm.load_matches(GAMERTAG, folders[1:], root=root, progress=fail_after_three)
    assert len(written) == 3 and written[-1] < len(chunks[1])
    assert table_hashes(db) == before  # none of the three written batches

    result = lm.load_matches(GAMERTAG, folders, root=root, progress=lambda done, total: written.append(done))
    assert len(written) > 3 + 4  # the rerun was written in several batches too
    assert result.counts.loaded == len(chunks[1]) and result.counts.unchanged == len(chunks[0])
    assert table_hashes(db) == want  # the same content as one load in default batches
    assert_holds_exactly(db, chunks[0] + chunks[1])


def test_a_load_transaction_does_not_hold_the_batches_it_has_written(tmp_path: Path) -> None:
    """The writer's Arrow frames are freed as soon as a batch is written, not at COMMIT (a view registered and
    dropped inside a transaction keeps its data alive until the transaction ends)."""
    import pyarrow as pa

    from loader.ingest import raw_tables
    from loader.ingest.load_matches import open_player_db
    from loader.ingest.writer import DocKey, ParsedBatch, transaction, write_parsed_batch

    mtime = dt.datetime(2024, 1, 1)

    def batch(first: int, n: int = 200) -> ParsedBatch:
        ids = [f"00000000-0000-0000-0000-{i:012d}" for i in range(first, first + n)]
        docs = [DocKey(first + i, "match_stats", doc_id, f"{first + i:064x}", mtime) for i, doc_id in enumerate(ids)]
        table = pa.table({
            "kind": pa.array(["match_stats"] * n, pa.string()), "doc_id": pa.array(ids, pa.string()),
            "match_id": pa.array(ids, pa.string()), "source_path": pa.array([f"/x/{i}.json" for i in ids], pa.string()),
            "source_mtime": pa.array([mtime] * n, pa.timestamp("us")),
            "sha256": pa.array([d.sha256 for d in docs], pa.string()), "byte_size": pa.array([50_000] * n, pa.int64()),
            "body": pa.array([bytes([i % 251]) * 50_000 for i in range(n)], pa.binary()),
            "_doc": pa.array([d.index for d in docs], pa.int64()),
        })
        return ParsedBatch(files=n, docs=docs, tables={"documents": [table]})

    con = open_player_db(GAMERTAG, XUID, tmp_path)
    try:
        with transaction(con):
            for number in range(5):
                allocated = pa.total_allocated_bytes()
                parsed = batch(number * 200)
                size = pa.total_allocated_bytes() - allocated
                assert size >= 200 * 50_000
                write_parsed_batch(con, parsed, kind_tables=raw_tables.KIND_TABLES, schemas=raw_tables.SCHEMAS,
                                   primary_keys=raw_tables.PRIMARY_KEYS, shared_tables=raw_tables.SHARED_TABLES)
                del parsed
                assert pa.total_allocated_bytes() - allocated < size // 10, f"batch {number} is still held"
    finally:
        con.close()
    with duckdb.connect(str(player_db_path(GAMERTAG, tmp_path)), read_only=True) as con:
        assert con.execute("SELECT count(*), sum(byte_size), sum(octet_length(body)) FROM raw.documents").fetchall() \
            == [(1000, 1000 * 50_000, 1000 * 50_000)]
