"""Hostile gamertags never leave HALO_DATA_DIR/players and always map to one directory."""

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import OWNER_XUID, RESPONSES

from loader.cli.main import main as halo_main
from loader.core.paths import UnsafeNameError, player_db_path, player_dir, player_dir_name
from loader.ingest.load_matches import load_matches

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


# ---------------------------------------------------------------- hostile source file names and data dirs

ROOT = Path(__file__).resolve().parents[1]
SKILL_MATCH = "63391382-6b88-43f9-9ff4-6313404c419c"
HOSTILE_FILE_NAMES = [  # (bytes of the name, fixture it holds)
    (b"quote'; DROP TABLE raw.matches; --.json", "get_match_stats.json"),
    (b'double"quote \\ back$lash `tick`.json', "get_match_stats_ctf.json"),
    (("long" * 60 + ".json").encode(), "get_match_stats_zones.json"),  # 244 bytes, near the 255 limit
    ("ünïcødé 🎮 スパルタン.json".encode(), "get_match_stats_oddball.json"),
    (f"skill_{SKILL_MATCH}' OR '1'='1.json".encode(), "get_match_skill.json"),
    (b"not utf-8 \xff\xfe.json", "get_match_stats_pve.json"),
    (b"..double-dot-prefixed.json", "get_match_stats_infection.json"),  # hidden file: skipped like .DS_Store
]


def _write_hostile_sources(folder: Path) -> None:
    folder.mkdir(parents=True)
    for name, fixture in HOSTILE_FILE_NAMES:
        with open(os.path.join(os.fsencode(folder), name), "wb") as handle:
            handle.write((RESPONSES / fixture).read_bytes())
    with open(os.path.join(os.fsencode(folder), b"broken \xff'; --.json"), "wb") as handle:
        handle.write(b'{"MatchId": "cut')


def test_hostile_source_file_names_load_and_are_recorded_verbatim(tmp_path: Path) -> None:
    """Quotes, SQL text, long, unicode and non-UTF-8 file names: loaded through bound parameters, the path
    recorded as text (non-UTF-8 bytes as \\xNN), the CLI summary printed without a traceback."""
    source, root = tmp_path / "in'; DROP TABLE raw.documents; --", tmp_path / "data"
    _write_hostile_sources(source)
    env = dict(os.environ, HALO_DATA_DIR=str(root), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "loader.cli", "load", "matches", "--player", "Spartan001",
                           "--xuid", str(OWNER_XUID), str(source)], cwd=ROOT, env=env, capture_output=True)
    stdout, stderr = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, stdout + stderr  # the broken file is rejected, the rest loads
    assert "Traceback" not in stderr
    db = player_db_path("Spartan001", root)
    with duckdb.connect(str(db), read_only=True) as con:
        paths = {p for (p,) in con.execute("SELECT source_path FROM raw.documents").fetchall()}
        assert con.execute("SELECT count(*) FROM raw.matches").fetchall() == [(5,)]
        skill_rows = con.execute("SELECT count(*) FROM raw.match_skill WHERE match_id = ?", [SKILL_MATCH]).fetchall()
        assert skill_rows[0][0] > 0
        rejected = con.execute("SELECT source_path, reason FROM raw.rejected").fetchall()
    expected = {str(source / name.decode()) for name, _ in HOSTILE_FILE_NAMES[:5]}
    expected |= {str(source) + "/not utf-8 \\xff\\xfe.json"}
    assert paths == expected
    assert len(rejected) == 1 and rejected[0][0] == str(source) + "/broken \\xff'; --.json"
    assert "not valid JSON" in rejected[0][1]
    assert {p for p in tmp_path.rglob("*") if p.is_file() and source not in p.parents} == {db}


def test_nul_in_a_path_argument_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = halo_main(["load", "matches", "--player", "Spartan001", "--xuid", str(OWNER_XUID),
                      str(tmp_path / "a\x00b.json")])
    assert code == 2
    assert "error" in capsys.readouterr().err


def test_hostile_gamertag_round_trips_to_the_same_player_directory(tmp_path: Path) -> None:
    """The gamertag stored in the DB names the same directory again (halo build --all finds the player)."""
    from loader.warehouse.players import tracked_players

    root = tmp_path / "data"
    gamertag = "Ünï'; DROP TABLE raw.owner; --/../x"
    load_matches(gamertag, [RESPONSES / "get_match_stats.json"], xuid=OWNER_XUID, root=root)
    load_matches(gamertag.upper(), [RESPONSES / "get_match_stats_ctf.json"], root=root)  # same player, any case
    [player] = tracked_players(root)
    assert player.gamertag == gamertag
    assert player.database == player_db_path(gamertag, root) == player_db_path(player.gamertag, root)
    with duckdb.connect(str(player.database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.matches").fetchall() == [(2,)]


def test_data_dir_with_quotes_and_spaces_loads_builds_and_exports(tmp_path: Path) -> None:
    """HALO_DATA_DIR with quotes, spaces and SQL text: the profile's ATTACH of the metadata DB, the archive
    COPY and every loader query keep working, and nothing is written outside it."""
    from loader.demo import generate_player_matches

    manifest = generate_player_matches(tmp_path / "src", gamertag="Quote'Chief", xuid=2533274900000101,
                                       n_matches=40, seed=3, with_reference=True)
    root = tmp_path / "it's a \"data\" dir; DROP TABLE meta.main.maps; --"
    env = dict(os.environ, HALO_DATA_DIR=str(root), PYTHONPATH=str(ROOT))

    def halo(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "loader.cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)

    assert halo("load", "reference", str(manifest.reference_dir)).returncode == 0
    loaded = halo("load", "matches", "--player", "Quote'Chief", "--xuid", "2533274900000101",
                  str(manifest.players[0][2]))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    built = halo("build", "--player", "Quote'Chief")
    assert built.returncode == 0, built.stdout + built.stderr
    db = player_db_path("Quote'Chief", root)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM main.match_stats").fetchall() == [(40,)]
        assert con.execute("SELECT count(*) FROM main.match_stats WHERE map_name IS NULL").fetchall() == [(0,)]
    assert list((db.parent / "archive").rglob("*.parquet"))
    exported = halo("export", "--player", "Quote'Chief", str(root / "backup"))
    assert exported.returncode == 0, exported.stderr
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and root not in p.parents
               and tmp_path / "src" not in p.parents]
    assert outside == []
