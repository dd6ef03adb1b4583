"""The parsing workers of a large load hand their tables over as Arrow IPC files (see `load_matches.result_dir`):
the same content as a load parsed in one process, nothing left behind, and a file that cannot be written travels
through the pool's pipe instead."""

import os
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

import loader.load_matches as lm
from loader.demo import generate_player_matches
from loader.paths import player_db_path
from test_crash_safety import assert_holds_exactly, table_hashes

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
