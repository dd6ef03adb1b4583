"""Input files that cannot be read never throw a load away: a file the loading user may not read (chmod 000, read
as an unprivileged user: root reads everything), a file deleted while the load runs, a FIFO, socket or device, a
dangling link, a folder that cannot be listed. Each becomes a rejected document (its path, empty bytes, the reason)
or a skipped entry (reason in the summary), and every other document is stored. Also: JSON with a UTF-8 byte-order
mark is read, a FIFO named on the command line is refused without being opened, a gamertag that is not UTF-8 is a
usage error. Expected rows are counted from the fixtures with plain json."""

import hashlib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import OWNER_XUID, REFERENCE, RESPONSES, read_json

import loader.ingest.load_matches as lm
from loader.cli.main import main as halo_main
from loader.core.paths import metadata_db_path, player_db_path
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference

ROOT = Path(__file__).resolve().parents[1]
PLAYER = "Spartan001"
STATS = ["get_match_stats.json", "get_match_stats_ctf.json", "get_match_stats_oddball.json",
         "get_match_stats_zones.json", "get_match_stats_infection.json", "get_match_stats_pve.json"]
PERMISSION = "cannot be read: permission denied (no bytes stored)"
VANISHED = "vanished before it was read"


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def expected_rows(files: list[Path]) -> tuple[set[str], int]:
    """(match ids, player rows) of match-stats files, read with plain json."""
    docs = [read_json(f) for f in files]
    return {d["MatchId"] for d in docs}, sum(len(d["Players"]) for d in docs)


def stored_rows(db: Path) -> tuple[set[str], int]:
    return ({str(m) for (m,) in query(db, "SELECT match_id FROM raw.matches")},
            query(db, "SELECT count(*) FROM raw.match_players")[0][0])


def copies_with_new_match_ids(folder: Path, count: int) -> list[Path]:
    """`count` distinct match-stats documents: the real slayer sample under new match ids."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = read_json(RESPONSES / "get_match_stats.json")
    files = []
    for n in range(count):
        doc["MatchId"] = str(uuid.UUID(int=n + 1))
        path = folder / f"m{n:04d}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        files.append(path)
    return files


# ------------------------------------------------------------------ unreadable files, as an unprivileged user

@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder an unprivileged user can reach (pytest's own temporary folders are private to root)."""
    base = Path(tempfile.mkdtemp(prefix="halo-input-files-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        for folder, dirs, _ in os.walk(base):  # give root's rmtree its way back into chmod 000 folders
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o755)
        shutil.rmtree(base)


def unprivileged(data: Path) -> list[str]:
    """The command prefix that runs `halo` as a user whom chmod 000 keeps out; `data` becomes theirs."""
    if os.geteuid() != 0:
        return []
    tool = shutil.which("setpriv")
    if tool is None:
        pytest.skip("running as root and no setpriv to drop to an unprivileged user: root reads chmod 000 files")
    nobody = pwd.getpwnam("nobody")
    os.chown(data, nobody.pw_uid, nobody.pw_gid)
    prefix = [tool, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import loader.cli.main"], cwd=ROOT, capture_output=True,
                           env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1"))
    if probe.returncode != 0:
        pytest.skip(f"user nobody cannot run this checkout's Python: {probe.stderr.decode()[-200:]}")
    return prefix


def halo_as_nobody(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    prefix = unprivileged(data)
    environment = dict(os.environ, HALO_DATA_DIR=str(data), PYTHONPATH=str(ROOT), HOME=str(data),
                       PYTHONDONTWRITEBYTECODE="1", **env)
    return subprocess.run([*prefix, sys.executable, "-m", "loader.cli", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=600)


def test_unreadable_file_and_folder_fifo_and_dangling_link_leave_the_rest_loaded(shared_dir: Path) -> None:
    source, data = shared_dir / "in", shared_dir / "data"
    (source / "ok").mkdir(parents=True)
    (source / "sealed").mkdir()
    data.mkdir()
    readable = [source / "get_match_stats.json", source / "get_match_stats_ctf.json",
                source / "ok" / "get_match_stats_oddball.json"]
    for path in readable:
        shutil.copy(RESPONSES / path.name, path)
    locked = source / "locked.json"
    shutil.copy(RESPONSES / "get_match_stats_pve.json", locked)
    locked.chmod(0)
    shutil.copy(RESPONSES / "get_match_stats_zones.json", source / "sealed" / "zones.json")
    (source / "sealed").chmod(0)
    os.mkfifo(source / "pipe.json")
    (source / "gone.json").symlink_to(source / "deleted.json")

    proc = halo_as_nobody(data, "load", "matches", "--player", PLAYER, "--xuid", str(OWNER_XUID), str(source))
    assert proc.returncode == 1, proc.stdout + proc.stderr  # something rejected or skipped, the rest loaded
    assert "Traceback" not in proc.stderr
    db = player_db_path(PLAYER, data)
    assert stored_rows(db) == expected_rows(readable)
    assert query(db, "SELECT source_path, byte_size, body, kind FROM raw.rejected") == [(str(locked), 0, b"", None)]
    [(reason,)] = query(db, "SELECT reason FROM raw.rejected")
    assert reason.startswith(PERMISSION) and "chmod a+r" in reason
    assert re.search(r"rejected\s*│\s*1\s*│", proc.stdout), proc.stdout
    assert re.search(r"skipped \(not read\)\s*│\s*3\s*│", proc.stdout), proc.stdout
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("rejected ", "skipped "))]
    assert lines == [
        f"rejected {locked}: {reason}",
        f"skipped {source / 'gone.json'}: dangling symbolic link to {source / 'deleted.json'}: not read; fix or "
        "remove the link",
        f"skipped {source / 'pipe.json'}: a FIFO (named pipe), not a regular file: not read (reading it would "
        "block); save the data to a .json file and load that",
        f"skipped {source / 'sealed'}: folder cannot be read (permission denied): the documents in it were not "
        "loaded; give the loading user read access to it (chmod a+rx) and load it again",
    ]


def test_unreadable_files_in_a_parallel_load_are_rejected_by_the_workers(shared_dir: Path) -> None:
    """420 files (>= PARALLEL_MIN_FILES: parsed by worker processes), 5 of them chmod 000."""
    source, data = shared_dir / "in", shared_dir / "data"
    data.mkdir()
    files = copies_with_new_match_ids(source, 420)
    locked = files[7:420:100]
    for path in locked:
        path.chmod(0)
    proc = halo_as_nobody(data, "load", "matches", "--player", PLAYER, "--xuid", str(OWNER_XUID), str(source),
                          HALO_LOAD_WORKERS="2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    db = player_db_path(PLAYER, data)
    readable = [f for f in files if f not in locked]
    players = len(read_json(RESPONSES / "get_match_stats.json")["Players"])
    assert stored_rows(db) == ({read_json(f)["MatchId"] for f in readable}, 415 * players)
    rejected = query(db, "SELECT source_path, byte_size, reason FROM raw.rejected ORDER BY 1")
    assert [(p, n) for p, n, _ in rejected] == [(str(f), 0) for f in locked]
    assert all(r.startswith(PERMISSION) for _, _, r in rejected)


def test_unreadable_reference_file_is_rejected_and_the_rest_loads(shared_dir: Path) -> None:
    source, data = shared_dir / "in", shared_dir / "data"
    source.mkdir()
    data.mkdir()
    for name in ("get_medal_metadata.json", "get_career_reward_track.json"):
        shutil.copy(RESPONSES / name, source / name)
    shutil.copy(REFERENCE / "medals_en.json", source / "medals_en.json")
    (source / "get_career_reward_track.json").chmod(0)
    os.mkfifo(source / "medals_fr.json")
    proc = halo_as_nobody(data, "load", "reference", str(source))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    db = metadata_db_path(data)
    assert query(db, "SELECT count(*) FROM raw.medals") == [(len(read_json(RESPONSES / "get_medal_metadata.json")
                                                                  ["medals"]),)]
    assert query(db, "SELECT count(*) FROM raw.career_ranks") == [(0,)]
    assert query(db, "SELECT doc_id FROM raw.medal_name_files GROUP BY doc_id") == [("en",)]
    rejected = query(db, "SELECT source_path, byte_size, reason FROM raw.rejected")
    assert [(p, n) for p, n, _ in rejected] == [(str(source / "get_career_reward_track.json"), 0)]
    assert rejected[0][2].startswith(PERMISSION)
    assert f"skipped {source / 'medals_fr.json'}: a FIFO (named pipe)" in proc.stdout


# ------------------------------------------------------------------ files deleted while a load runs

def test_files_deleted_during_a_load_are_rejected_as_vanished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              ) -> None:
    """Batches of 2 files: after the first batch is written, the progress callback deletes the last two files."""
    source = tmp_path / "in"
    source.mkdir()
    files = [source / f"{n}_{name}" for n, name in enumerate(STATS)]
    for path, name in zip(files, STATS):
        shutil.copy(RESPONSES / name, path)
    expected = expected_rows(files[:4])
    monkeypatch.setattr(lm, "BATCH_SIZE", 2)
    calls = []

    def delete_later_files(done: int, total: int) -> None:
        calls.append((done, total))
        if len(calls) == 1:
            files[4].unlink()
            files[5].unlink()

    result = load_matches(PLAYER, [source], xuid=OWNER_XUID, root=tmp_path / "data", progress=delete_later_files)
    assert calls == [(2, 6), (4, 6), (6, 6)]
    assert result.read == 6 and result.counts.loaded == 4 and result.counts.rejected == 2
    assert [(r.source.path, r.source.data) for r in result.rejections] == [(files[4], b""), (files[5], b"")]
    assert all(r.reason.startswith(VANISHED) for r in result.rejections)
    db = player_db_path(PLAYER, tmp_path / "data")
    assert stored_rows(db) == expected
    assert query(db, "SELECT source_path, byte_size FROM raw.rejected ORDER BY 1") == [(str(files[4]), 0),
                                                                                      (str(files[5]), 0)]


def test_files_deleted_during_a_parallel_load_are_rejected_by_the_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """450 files parsed by 2 workers in batches of 100: the workers look one batch ahead (plus one task per worker),
    so the last batch is not read yet when the first one is written; the callback deletes it then."""
    files = copies_with_new_match_ids(tmp_path / "in", 450)
    monkeypatch.setattr(lm, "BATCH_SIZE", 100)
    monkeypatch.setenv("HALO_LOAD_WORKERS", "2")
    calls = []

    def delete_last_batch(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 1:
            for path in files[400:]:
                path.unlink()

    result = load_matches(PLAYER, [tmp_path / "in"], xuid=OWNER_XUID, root=tmp_path / "data",
                          progress=delete_last_batch)
    assert calls == [100, 200, 300, 400, 450]
    assert result.counts.loaded == 400 and result.counts.rejected == 50
    db = player_db_path(PLAYER, tmp_path / "data")
    players = len(read_json(RESPONSES / "get_match_stats.json")["Players"])
    assert stored_rows(db) == ({str(uuid.UUID(int=n + 1)) for n in range(400)}, 400 * players)
    rejected = query(db, "SELECT source_path, byte_size, reason FROM raw.rejected ORDER BY 1")
    assert [(p, n) for p, n, _ in rejected] == [(str(f), 0) for f in files[400:]]
    assert all(r.startswith(VANISHED) for _, _, r in rejected)


def test_reference_file_deleted_during_a_load_is_rejected_as_vanished(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for name in ("get_career_reward_track.json", "get_medal_metadata.json"):
        shutil.copy(RESPONSES / name, source / name)
    shutil.copy(REFERENCE / "medals_en.json", source / "medals_en.json")

    def delete_the_last(done: int, total: int) -> None:
        if done == 1:
            (source / "medals_en.json").unlink()

    result = load_reference([source], root=tmp_path / "data", progress=delete_the_last)
    assert result.counts.loaded == 2 and result.counts.rejected == 1
    db = metadata_db_path(tmp_path / "data")
    ranks = len(read_json(RESPONSES / "get_career_reward_track.json")["Ranks"])
    assert query(db, "SELECT count(*) FROM raw.career_ranks") == [(ranks,)]
    assert query(db, "SELECT count(*) FROM raw.medal_name_files") == [(0,)]
    [(path, size, reason)] = query(db, "SELECT source_path, byte_size, reason FROM raw.rejected")
    assert (path, size) == (str(source / "medals_en.json"), 0) and reason.startswith(VANISHED)


# ------------------------------------------------------------------ FIFOs, sockets, devices, links

def test_special_files_and_links_in_a_folder_are_skipped_with_reasons(tmp_path: Path, data_root: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "in"
    source.mkdir()
    shutil.copy(RESPONSES / "get_match_stats.json", source / "stats.json")
    os.mkfifo(source / "pipe.json")
    os.mkfifo(source / "notes")  # not named like a document: not a candidate, as before
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(source / "sock.gzip"))
    (source / "gone.json").symlink_to("nowhere.json")
    (source / ".old.json").symlink_to("nowhere.json")  # hidden: left alone
    (source / "to-pipe.json").symlink_to(source / "pipe.json")
    (source / "null.json").symlink_to("/dev/null")
    (tmp_path / "elsewhere").mkdir()
    (source / "folder-link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    try:
        code = halo_main(["load", "matches", "--player", PLAYER, "--xuid", str(OWNER_XUID), str(source)])
    finally:
        server.close()
    printed = capsys.readouterr().out
    assert code == 1
    assert stored_rows(player_db_path(PLAYER, data_root)) == expected_rows([RESPONSES / "get_match_stats.json"])
    assert query(player_db_path(PLAYER, data_root), "SELECT count(*) FROM raw.rejected") == [(0,)]
    assert re.search(r"skipped \(not read\)\s*│\s*6\s*│", printed), printed
    lines = [line for line in printed.splitlines() if line.startswith("skipped ")]
    assert lines == [
        f"skipped {source / 'folder-link'}: symbolic link to the folder {tmp_path / 'elsewhere'}: not followed "
        "(links may loop); name the folder itself to load it",
        f"skipped {source / 'gone.json'}: dangling symbolic link to nowhere.json: not read; fix or remove the link",
        f"skipped {source / 'null.json'}: symbolic link to a character device (/dev/null): not read (it would "
        "block); save the data to a .json file",
        f"skipped {source / 'pipe.json'}: a FIFO (named pipe), not a regular file: not read (reading it would "
        "block); save the data to a .json file and load that",
        f"skipped {source / 'sock.gzip'}: a socket, not a regular file: not read (reading it would block); save "
        "the data to a .json file and load that",
        f"skipped {source / 'to-pipe.json'}: symbolic link to a FIFO (named pipe) ({source / 'pipe.json'}): not "
        "read (it would block); save the data to a .json file",
    ]


@pytest.mark.parametrize("command", [["load", "matches", "--player", PLAYER, "--xuid", str(OWNER_XUID)],
                                     ["load", "reference"]])
def test_a_fifo_named_on_the_command_line_is_refused_unopened(tmp_path: Path, data_root: Path, command: list[str],
                                                              capsys: pytest.CaptureFixture) -> None:
    fifo = tmp_path / "live.json"
    os.mkfifo(fifo)  # opening it for reading would block this test: the refusal must come from its type
    code = halo_main([*command, str(RESPONSES / "get_match_stats.json"), str(fifo)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{fifo}: is a FIFO (named pipe), not a file or folder" in " ".join(err.split())
    assert not data_root.exists()  # refused before anything was opened


def test_a_dangling_link_named_on_the_command_line_says_where_it_points(tmp_path: Path, data_root: Path,
                                                                        capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "latest.json").symlink_to(tmp_path / "moved.json")
    code = halo_main(["load", "reference", str(tmp_path / "latest.json")])
    assert code == 2
    assert f"a symbolic link to {tmp_path / 'moved.json'}, which does not exist" in " ".join(
        capsys.readouterr().err.split())


# ------------------------------------------------------------------ byte-order marks, gamertag bytes

BOM = b"\xef\xbb\xbf"


def test_json_with_a_utf8_byte_order_mark_is_loaded_and_its_bytes_kept(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    stats = BOM + (RESPONSES / "get_match_stats_ctf.json").read_bytes()
    (source / "ctf.json").write_bytes(stats)
    result = load_matches(PLAYER, [source], xuid=OWNER_XUID, root=tmp_path / "data")
    assert result.rejections == []
    db = player_db_path(PLAYER, tmp_path / "data")
    assert stored_rows(db) == expected_rows([RESPONSES / "get_match_stats_ctf.json"])
    assert query(db, "SELECT body, sha256 FROM raw.documents") == [(stats, hashlib.sha256(stats).hexdigest())]

    names = BOM + (REFERENCE / "medals_fr.json").read_bytes()
    (tmp_path / "medals_fr.json").write_bytes(names)
    result = load_reference([tmp_path / "medals_fr.json"], root=tmp_path / "data")
    assert result.rejections == []
    meta = metadata_db_path(tmp_path / "data")
    assert query(meta, "SELECT count(*) FROM raw.medal_name_files") == [(len(read_json(REFERENCE / "medals_fr.json")),)]
    assert query(meta, "SELECT body FROM raw.documents") == [(names,)]


def test_a_gamertag_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    env = dict(os.environ, HALO_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable.encode(), b"-m", b"loader.cli", b"load", b"matches", b"--player",
                           b"Spart\xffan", b"--xuid", str(OWNER_XUID).encode(),
                           str(RESPONSES / "get_match_stats.json").encode()], cwd=ROOT, env=env, capture_output=True)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, err
    assert "Traceback" not in err and "codec" not in err
    assert "error: gamertag 'Spart\\udcffan' is not UTF-8 text (byte 0xff at position 5)" in " ".join(err.split())
    assert not (tmp_path / "data" / "players").exists()
