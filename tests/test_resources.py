"""Locks and resources: a second build of the same database, a full disk, a read-only data folder, no network.

Each is made real: a small tmpfs filled to the last byte, a read-only bind mount, two `halo build` processes, a
`halo sync` in a network namespace of its own (no interface up). Each ends with one clear line, the documented exit
code (3 for the machine refusing, 1 for a busy build like a busy player file, 2 for sign-in), no traceback, and the
data as it was: the next command, once the machine allows it, works.
"""

import contextlib
import fcntl
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import FILM, MATCH_STATS_FILES, OWNER_XUID, REFERENCE, RESPONSES, read_json

from loader.core.paths import metadata_db_path, player_db_path
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference

ROOT = Path(__file__).resolve().parents[1]
GAMERTAG = "Resource Chief"
EXIT_RESOURCE = 3  # README, Exit codes (loader/cli/exits.py)


def halo(root: Path, *args: str, wait: float = 2, prefix: tuple[str, ...] = (), **extra_env: str) -> subprocess.Popen:
    env = dict(os.environ, HALO_DATA_DIR=str(root), HALO_LOCK_WAIT_SECONDS=str(wait), PYTHONPATH=str(ROOT),
               **extra_env)
    return subprocess.Popen([*prefix, sys.executable, "-m", "loader.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(root: Path, *args: str, **kw: str) -> tuple[int, str, str]:
    proc = halo(root, *args, **kw)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


def mounted(*mount_args: str, target: Path) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *mount_args, str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount {' '.join(mount_args)} is not permitted here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB file system of its own (tmpfs), to be filled."""
    yield from mounted("-t", "tmpfs", "-o", "size=24m", "tmpfs", target=tmp_path / "disk")


def fill(disk: Path) -> Path:
    """Write a file until the disk refuses (ENOSPC): not one byte is left."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 16, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * size)
    return filler


def documents(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT doc_id, sha256 FROM raw.documents ORDER BY doc_id").fetchall()


def match_stats_docs(files: list[Path]) -> list[tuple[str, str]]:
    """(match id, sha256) of match-stats files, read with plain json and hashlib."""
    return sorted({(read_json(f)["MatchId"], hashlib.sha256(f.read_bytes()).hexdigest()) for f in files})


def assert_one_line(code: int, out: str, err: str, expected_code: int, *words: str) -> None:
    assert code == expected_code, out + err
    assert "Traceback" not in out + err
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines


def test_load_on_a_full_disk_is_one_line_and_the_database_is_as_it_was(small_disk: Path) -> None:
    root = small_disk / "data"
    first, rest = MATCH_STATS_FILES[:1], MATCH_STATS_FILES[1:]
    code, out, err = run(root, "load", "matches", "--player", GAMERTAG, "--xuid", str(OWNER_XUID), *map(str, first))
    assert code == 0, out + err
    db = player_db_path(GAMERTAG, root)
    assert documents(db) == match_stats_docs(first)

    filler = fill(small_disk)
    code, out, err = run(root, "load", "matches", "--player", GAMERTAG, *map(str, rest))
    assert_one_line(code, out, err, EXIT_RESOURCE, "no space left", "Free some space")

    filler.unlink()
    assert documents(db) == match_stats_docs(first)  # the failed load left nothing
    code, out, err = run(root, "load", "matches", "--player", GAMERTAG, *map(str, rest))
    assert code == 0, out + err
    assert documents(db) == match_stats_docs(MATCH_STATS_FILES)


def load_player(root: Path) -> None:
    """Reference data and the player's matches, loaded in-process (the loads are not these tests' subject; the
    full-disk load test runs `halo load`)."""
    reference = load_reference([REFERENCE, RESPONSES], root=root)
    # 8 API reference responses + 3 files of tests/fixtures/reference; the responses folder holds player documents
    # too: rejected as reference data, and nothing else is
    assert reference.counts.loaded == 11 and {r.source.path.parent for r in reference.rejections} == {RESPONSES}
    loaded = load_matches(GAMERTAG, MATCH_STATS_FILES, xuid=OWNER_XUID, root=root)
    assert loaded.rejections == [] and loaded.counts.loaded == len(MATCH_STATS_FILES)


def test_build_on_a_full_disk_is_one_line_then_the_next_build_succeeds(small_disk: Path) -> None:
    root = small_disk / "data"
    load_player(root)
    db = player_db_path(GAMERTAG, root)
    before = documents(db), documents(metadata_db_path(root))

    filler = fill(small_disk)
    code, out, err = run(root, "build", "--all")
    assert_one_line(code, out, err, EXIT_RESOURCE, "halo build stopped", "no space left")
    filler.unlink()

    assert (documents(db), documents(metadata_db_path(root))) == before
    code, out, err = run(root, "build", "--all")
    assert code == 0, out + err
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM main.match_stats").fetchall() == [(len(before[0]),)]


@pytest.fixture
def read_only_data(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A loaded data folder (writable), and the same folder seen through a read-only bind mount."""
    root = tmp_path / "data"
    load_player(root)
    view = tmp_path / "read-only"
    for _ in mounted("--bind", str(root), target=view):
        done = subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"a read-only bind mount is not permitted here: {done.stderr.strip()}")
        yield root, view


@pytest.mark.parametrize("command", [
    ("load", "matches", "--player", GAMERTAG, str(FILM / "match_stats.json")),
    ("load", "reference", str(REFERENCE / "medals_fr.json")),
    ("build", "--all"),
])
def test_a_read_only_data_folder_is_one_line(read_only_data: tuple[Path, Path], command: tuple[str, ...]) -> None:
    root, view = read_only_data
    before = documents(player_db_path(GAMERTAG, root)), documents(metadata_db_path(root))
    code, out, err = run(view, *command)
    assert_one_line(code, out, err, EXIT_RESOURCE, "read-only file system", "Use a writable folder")
    assert (documents(player_db_path(GAMERTAG, root)), documents(metadata_db_path(root))) == before


def hold_until_locked(folder: Path, proc: subprocess.Popen) -> None:
    """Return once another process holds the build lock of `folder` (an flock on it, loader.core.duckdb_files);
    never decided by a clock: polled until `proc` has taken it (a probe that gets it lets go at once)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            fcntl.flock(fd, fcntl.LOCK_UN)
            time.sleep(0.02)
    finally:
        os.close(fd)


def test_a_second_build_at_once_says_busy(tmp_path: Path) -> None:
    root = tmp_path / "data"
    load_player(root)
    first = halo(root, "build", "--all", wait=2)
    hold_until_locked(metadata_db_path(root).parent, first)  # the first build holds the metadata's build lock
    second = halo(root, "build", "--all", wait=2)
    out, err = second.communicate(timeout=600)
    first_out, first_err = first.communicate(timeout=600)
    assert first.returncode == 0, first_out + first_err

    # busy, as a build while a dashboard holds a player's file: that database FAILED, exit 1 (README, Building)
    assert second.returncode == 1, out + err
    assert "Traceback" not in out + err
    assert "is busy: another halo build is building it" in err
    assert len([line for line in (out + err).splitlines() if line.strip()]) <= 4, out + err
    code, out, err = run(root, "build", "--all")
    assert code == 0, out + err


def test_azure_sign_in_without_network_is_one_line(tmp_path: Path) -> None:
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -n (a network namespace without network) is not permitted here")
    env = {"HALO_AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000000", "HALO_AZURE_CLIENT_SECRET": "secret",
           "HALO_AZURE_REFRESH_TOKEN": "refresh-token", "HALO_SPARTAN_TOKEN": "", "HALO_CLEARANCE_TOKEN": ""}
    proc = halo(tmp_path / "data", "sync", "--player", GAMERTAG, "--xuid", str(OWNER_XUID),
                prefix=("unshare", "-n"), **env)
    out, err = proc.communicate(timeout=300)
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert proc.returncode == 2, out + err
    assert "Traceback" not in out + err
    assert len(lines) == 1, lines
    assert "could not reach the Microsoft sign-in service" in lines[0]
    assert "check the network connection" in lines[0]
    assert "secret" not in out + err and "refresh-token" not in out + err
