"""The parsing workers of a large load hand their tables over as Arrow IPC files (see `load_matches.result_dir`):
the same content as a load parsed in one process, nothing left behind, and a file that cannot be written travels
through the pool's pipe instead."""

import os
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest
from test_crash_safety import assert_holds_exactly, table_hashes

import loader.ingest.load_matches as lm
from loader.core.paths import player_db_path
from loader.demo import generate_player_matches

GAMERTAG = "Worker Test Chief"
XUID = 2533274900000101


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A player's mixed documents (stats, skill, film events, career snapshots, history pages)."""
    base = tmp_path_factory.mktemp("workers_source")
    manifest = generate_player_matches(base / "gen", gamertag=GAMERTAG, xuid=XUID, n_matches=120, seed=23,
                                       film_share=0.2)
    return sorted(p for p in manifest.players[0][2].iterdir() if p.is_file())


def test_worker_results_travel_as_files_and_leave_nothing_behind(
        tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = files[0].parent
    in_process = tmp_path / "one"
    monkeypatch.setenv("HALO_LOAD_WORKERS", "1")
    lm.load_matches(GAMERTAG, [folder], xuid=XUID, root=in_process)

    base = tmp_path / "shm"
    base.mkdir()
    handed: list[str] = []
    read_ipc = lm._read_ipc

    def recording_read(data: str | bytes) -> pa.Table:
        assert isinstance(data, str) and Path(data).parent.parent == base and Path(data).is_file()
        handed.append(data)
        return read_ipc(data)

    monkeypatch.setenv("HALO_LOAD_WORKERS", "2")
    monkeypatch.setattr(lm, "PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr(lm, "CHUNK_SIZE", 25)
    monkeypatch.setattr(lm, "_result_base", lambda: str(base))
    monkeypatch.setattr(lm, "_read_ipc", recording_read)
    parallel = tmp_path / "two"
    result = lm.load_matches(GAMERTAG, [folder], xuid=XUID, root=parallel)

    assert result.counts.loaded == len(files) and result.counts.rejected == 0
    tasks = -(-len(files) // 25)
    assert len(handed) >= tasks * 2  # every task: at least its documents and one typed table
    assert list(base.iterdir()) == []  # every file removed as it was mapped, the folder at the end
    db = player_db_path(GAMERTAG, parallel)
    assert_holds_exactly(db, files)
    assert table_hashes(db) == table_hashes(player_db_path(GAMERTAG, in_process))


def test_a_result_that_cannot_be_written_goes_through_the_pipe(tmp_path: Path) -> None:
    table = pa.table({"a": pa.array([1, 2, 3], pa.int64()), "body": pa.array([b"x" * 10, b"", b"{}"], pa.binary())})

    written = lm._write_ipc(table, str(tmp_path / "t.arrow"))
    assert written == str(tmp_path / "t.arrow")
    assert lm._read_ipc(written).equals(table)
    assert not (tmp_path / "t.arrow").exists()  # removed once mapped

    unwritable = lm._write_ipc(table, str(tmp_path / "no-such-folder" / "t.arrow"))
    assert isinstance(unwritable, bytes)
    assert lm._read_ipc(unwritable).equals(table)


def test_result_folders_of_killed_loads_are_removed(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id that no longer runs
    dead = tmp_path / f"{lm.RESULT_DIR_PREFIX}{gone.pid}-abc"
    alive = tmp_path / f"{lm.RESULT_DIR_PREFIX}{os.getpid()}-def"
    other = tmp_path / "halo-load-notapid"
    for folder in (dead, alive, other):
        folder.mkdir()
        (folder / "0-matches.arrow").write_bytes(b"x")
    lm.remove_stale_result_dirs(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name])


def test_files_are_found_in_the_order_rglob_gives(tmp_path: Path) -> None:
    """`readable_files_below` (os.scandir) finds exactly the files, in the order, of the expression it replaced."""
    from loader.ingest.documents import READABLE_SUFFIXES, readable_files_below

    root = tmp_path / "in"
    for name in ["b.json", "a-c/x.json", "a/b.json", "a/z/y.JSON", "a/.hidden.json", "a/notes.txt", ".h/k.json",
                 "a.b/m.gzip", "a/c.json.", "A/q.json", "a/b/c/d/e.json"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.json").write_text("{}")
    (root / "linked-folder").symlink_to(outside, target_is_directory=True)  # not entered, as rglob
    (root / "a" / "linked.json").symlink_to(outside / "o.json")  # a file through a link: read, as rglob
    (root / "a" / "folder.json").mkdir()  # a folder named like a document
    (root / "a" / "folder.json" / "inner.json").write_text("{}")

    rglob = [child for child in sorted(root.rglob("*"))
             if child.is_file() and child.suffix.lower() in READABLE_SUFFIXES and not child.name.startswith(".")]
    assert readable_files_below(root) == rglob
    # by hand: components compared in turn ("a" before "a-c" although "a-c/" < "a/" as text), hidden names and
    # other suffixes left out, a folder named *.json entered
    assert [p.relative_to(root).as_posix() for p in readable_files_below(root)] == [
        ".h/k.json", "A/q.json", "a/b/c/d/e.json", "a/b.json", "a/folder.json/inner.json", "a/linked.json",
        "a/z/y.JSON", "a-c/x.json", "a.b/m.gzip", "b.json"]
