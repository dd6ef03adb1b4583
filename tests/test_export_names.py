"""Names: `halo export` writes a rejected document with a 250-character file name under a shortened name (and the
backup restores), never leaves a partial export, and a gamertag without a letter or digit gets a readable folder
while every other gamertag keeps the folder it had."""

import hashlib
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FILM, OWNER_XUID, RESPONSES
from test_export_restore import contents

from loader.cli.main import main as halo_main
from loader.core.paths import player_db_path, player_dir_name

ROOT = Path(__file__).resolve().parents[1]
PLAYER = "Spartan001"
STATS = ["get_match_stats.json", "get_match_stats_ctf.json", "get_match_stats_oddball.json",
         "get_match_stats_zones.json", "get_match_stats_infection.json", "get_match_stats_pve.json"]
ODDBALL = "63391382-6b88-43f9-9ff4-6313404c419c"
LONG_NAME = "r" * 245 + ".json"  # 250 characters: with `.<sha>.rejected` beyond the 255-byte limit
BROKEN = b'{"MatchId": "cut'


def halo(root: Path, *args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HALO_DATA_DIR=str(root), PYTHONPATH=str(ROOT))

    def limit() -> None:  # a real write failure: files beyond the limit fail with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run([sys.executable, "-m", "loader.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, preexec_fn=limit if file_size_limit else None)


def real_samples(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in STATS:
        shutil.copy2(RESPONSES / name, folder / name)
    shutil.copy2(RESPONSES / "get_match_history.json", folder / "history.json")
    shutil.copy2(RESPONSES / "get_match_skill.json", folder / f"skill_{ODDBALL}.json")
    shutil.copy2(FILM / f"38_{ODDBALL}.gzip", folder / f"38_{ODDBALL}.gzip")
    return folder


def listing(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_rejected_file_with_a_250_character_name_is_exported_shortened_and_the_export_restores(
        tmp_path: Path) -> None:
    source = real_samples(tmp_path / "in")
    (source / LONG_NAME).write_bytes(BROKEN)
    original, restored, backup = tmp_path / "original", tmp_path / "restored", tmp_path / "backup"
    loaded = halo(original, "load", "matches", "--player", PLAYER, "--xuid", str(OWNER_XUID), str(source))
    assert loaded.returncode == 1, loaded.stdout + loaded.stderr  # the broken file is rejected, the rest loads

    exported = halo(original, "export", "--player", PLAYER, str(backup))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert (backup / "EXPORT_INFO.txt").read_text(encoding="utf-8").startswith(
        f"Halo warehouse export of {PLAYER} (xuid({OWNER_XUID})), 9 documents.")  # 6 stats, history, skill, film
    # by hand: the name cut to 200 bytes = 165 of its characters, "~", 12 hex digits of the name's SHA-256, then
    # the usual ".<12 hex digits of the bytes' SHA-256>.rejected"
    name_digest = hashlib.sha256(LONG_NAME.encode()).hexdigest()[:12]
    body_digest = hashlib.sha256(BROKEN).hexdigest()[:12]
    assert listing(backup / "rejected") == {f"{'r' * 165}~{name_digest}.{body_digest}.rejected": BROKEN}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup", "in", "original"]  # no staging folder left

    restore = halo(restored, "load", "matches", "--player", PLAYER, "--xuid", str(OWNER_XUID), str(backup))
    assert restore.returncode == 0, restore.stdout + restore.stderr  # rejected/ is kept, never reloaded
    raw_a = contents(player_db_path(PLAYER, original), "raw")
    raw_b = contents(player_db_path(PLAYER, restored), "raw")
    assert set(raw_a) == set(raw_b)
    for table in raw_a:
        if table != "rejected":
            assert raw_a[table] == raw_b[table], f"raw.{table} differs after restore"
    assert len(raw_a["matches"]) == 6 and len(raw_a["highlight_events"]) == 640  # the tables hold the samples


def test_a_failed_export_leaves_no_partial_folder_and_an_earlier_export_unchanged(tmp_path: Path) -> None:
    source = real_samples(tmp_path / "in")
    root, backup, fresh = tmp_path / "data", tmp_path / "out" / "backup", tmp_path / "out" / "fresh"
    assert halo(root, "load", "matches", "--player", PLAYER, "--xuid", str(OWNER_XUID), str(source)).returncode == 0
    assert halo(root, "export", "--player", PLAYER, str(backup)).returncode == 0
    before = listing(backup)
    assert len(before) == 10  # 9 documents and EXPORT_INFO.txt

    # the film chunk (234 KB) and four of the match-stats documents are larger than 50,000 bytes
    for target in (backup, fresh):
        failed = halo(root, "export", "--player", PLAYER, str(target), file_size_limit=50_000)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "Traceback" not in failed.stderr
        message = " ".join(failed.stderr.split())
        assert message.startswith(f"error: export of '{PLAYER}' to {target} failed: [Errno 27] File too large")
        assert "nothing was written" in message
    assert listing(backup) == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["backup"]  # neither a partial nor a staging one

    again = halo(root, "export", "--player", PLAYER, str(backup))  # an earlier export is replaced
    assert again.returncode == 0, again.stderr
    assert listing(backup) == before


def test_export_into_a_folder_of_other_files_is_refused(tmp_path: Path, data_root: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    assert halo_main(["load", "matches", "--player", PLAYER, "--xuid", str(OWNER_XUID),
                      str(RESPONSES / "get_match_stats.json")]) == 0
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    assert halo_main(["export", "--player", PLAYER, str(folder)]) == 2
    assert "is not empty and holds no earlier export" in capsys.readouterr().err
    assert listing(folder) == {"notes.txt": b"mine"}


# ------------------------------------------------------------------ player folder names

def test_a_gamertag_without_letters_or_digits_gets_a_readable_folder(data_root: Path) -> None:
    # 3973e022e9: the first 10 hex digits of sha256(b"-") (the issue's `--3973e022e9`)
    assert hashlib.sha256(b"-").hexdigest()[:10] == "3973e022e9"
    assert player_dir_name("-") == "player-3973e022e9"
    assert player_dir_name("__") == f"player-{hashlib.sha256(b'__').hexdigest()[:10]}"
    assert player_dir_name("-chief") == f"chief-{hashlib.sha256(b'-chief').hexdigest()[:10]}"  # never a leading -
    assert halo_main(["load", "matches", "--player", "-", "--xuid", str(OWNER_XUID),
                      str(RESPONSES / "get_match_stats.json")]) == 0
    assert [p.name for p in (data_root / "players").iterdir()] == ["player-3973e022e9"]


@pytest.mark.parametrize(("gamertag", "folder"), [  # the folders these gamertags had before: unchanged
    ("Spartan 001", "spartan_001-b673736850"), ("Chief#1234", "chief_1234-0ff8c5087a"),
    ("ünïcødé spärtan", "n_c_d_sp_rtan-b8583f8d7b"), ("a-b", "a-b-d44362d67d"), ("_x_", "x-f1f6bd62c1"),
    ("x" * 60, "x" * 48 + "-42f2d97335"),
])
def test_other_gamertags_keep_their_folders(gamertag: str, folder: str) -> None:
    assert player_dir_name(gamertag) == folder
