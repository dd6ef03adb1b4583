"""Hostile gamertags never leave HALO_DATA_DIR/players and always map to one directory."""

import re
from pathlib import Path

import pytest

from conftest import OWNER_XUID, RESPONSES
from loader.load_matches import load_matches
from loader.paths import UnsafeNameError, player_db_path, player_dir, player_dir_name

HOSTILE = [
    "Spartan 001", "Chief#1234", "..", "../..", "../../etc/passwd", "/abs/path", "a/b", "C:\\Windows",
    "quote'; DROP TABLE raw.matches; --", 'double"quote', "ünïcødé spärtan", "スパルタン", "\u202eevil",
    "x" * 500, ".hidden", "tab\tnew\nline", "nul\x00byte",
]


@pytest.mark.parametrize("gamertag", HOSTILE)
def test_player_dir_stays_inside_players(tmp_path: Path, gamertag: str) -> None:
    root = tmp_path / "data"
    path = player_dir(gamertag, root)
    assert path.parent == (root / "players").resolve()
    assert re.fullmatch(r"[a-z0-9_-]{1,48}-[0-9a-f]{10}", path.name), path.name
    assert player_dir(gamertag, root) == path  # stable


def test_names_are_case_insensitive_and_distinct() -> None:
    assert player_dir_name("Spartan 001") == player_dir_name("spartan 001")
    names = {player_dir_name(g) for g in HOSTILE}
    assert len(names) == len(HOSTILE)  # different gamertags never share a directory
    assert player_dir_name("a/b") != player_dir_name("a_b")


@pytest.mark.parametrize("gamertag", ["", "   ", "\x00\x01"])
def test_empty_gamertags_are_refused(gamertag: str) -> None:
    with pytest.raises(UnsafeNameError, match="empty"):
        player_dir_name(gamertag)


@pytest.mark.parametrize("gamertag", ["../../escape", "quote'; DROP TABLE raw.matches; --", "ünïcødé/spärtan"])
def test_loading_a_hostile_player_writes_only_inside_the_root(tmp_path: Path, gamertag: str) -> None:
    root = tmp_path / "data"
    result = load_matches(gamertag, [RESPONSES / "get_match_stats.json"], xuid=OWNER_XUID, root=root)
    assert result.rejections == []
    db = player_db_path(gamertag, root)
    assert db.is_file()
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {db}
