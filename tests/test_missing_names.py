"""`halo build` says which assets of a player's matches the metadata lacks (their names are null) and how to get
them; once the asset file is loaded, the next build fills the name."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import OWNER_XUID, REFERENCE, RESPONSES, read_json

from loader.core.paths import player_db_path

SLAYER = RESPONSES / "get_match_stats.json"
ASSET_FILES = ["get_map.json", "get_playlist.json", "get_map_mode_pair.json", "get_ugc_game_variant.json"]
REFERENCE_FILES = ["get_medal_metadata.json", "get_career_reward_track.json", "get_season_calendar.json",
                   "get_csr_season_calendar.json"]
INFO_KEYS = {"map": "MapVariant", "game_variant": "UgcGameVariant", "playlist": "Playlist",
             "map_mode_pair": "PlaylistMapModePair"}


def halo(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loader.cli", *args], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "HALO_DATA_DIR": str(root)})


def test_missing_asset_ids_are_listed_then_filled(tmp_path: Path) -> None:
    root = tmp_path / "data"
    reference = tmp_path / "reference"
    reference.mkdir()
    for name in REFERENCE_FILES + [n for n in ASSET_FILES if n != "get_playlist.json"]:
        shutil.copy(RESPONSES / name, reference / name)
    shutil.copy(REFERENCE / "medals_en.json", reference)
    assert halo(root, "load", "reference", str(reference)).returncode == 0
    loaded_match = halo(root, "load", "matches", "--player", "Spartan001", "--xuid", str(OWNER_XUID), str(SLAYER))
    assert loaded_match.returncode == 0, loaded_match.stdout

    # expected from the JSON: the match's four assets, minus the asset files loaded above
    info = read_json(SLAYER)["MatchInfo"]
    loaded = {read_json(RESPONSES / n)["AssetId"].lower() for n in ASSET_FILES if n != "get_playlist.json"}
    expected = {kind: info[key]["AssetId"].lower() for kind, key in INFO_KEYS.items()
                if info[key]["AssetId"].lower() not in loaded}
    assert "playlist" in expected

    built = halo(root, "build", "--player", "Spartan001")
    assert built.returncode == 0, built.stdout + built.stderr
    lines = built.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("names missing:"))
    assert lines[start].startswith(f"names missing: {len(expected)} asset(s)")
    kind_lines = lines[start + 1:start + 1 + len(expected)]
    listed = {line.split(":")[0].strip(): line.split(":", 1)[1].strip() for line in kind_lines}
    assert listed == expected
    assert "halo sync" in lines[start + 1 + len(expected)]

    assert halo(root, "load", "reference", str(RESPONSES / "get_playlist.json")).returncode == 0
    rebuilt = halo(root, "build", "--player", "Spartan001")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"playlist: {expected['playlist']}" not in rebuilt.stderr
    with duckdb.connect(str(player_db_path("Spartan001", root)), read_only=True) as con:
        name = con.execute("SELECT playlist_name FROM main.match_stats WHERE match_id = ?",
                           [read_json(SLAYER)["MatchId"]]).fetchall()
    assert name == [(json.loads((RESPONSES / "get_playlist.json").read_text())["PublicName"],)]


def test_a_build_without_reference_data_is_one_line_naming_halo_commands(tmp_path: Path) -> None:
    """No reference data loaded yet: one line (exit 2) saying to load it with halo, not with a dbt command."""
    root = tmp_path / "data"
    loaded = halo(root, "load", "matches", "--player", "Spartan001", "--xuid", str(OWNER_XUID), str(SLAYER))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    built = halo(root, "build", "--player", "Spartan001")
    assert built.returncode == 2, built.stdout + built.stderr
    assert built.stderr.splitlines() == [
        f"error: no metadata database at {root / 'warehouse' / 'metadata.duckdb'}: load reference data first (halo "
        "load reference PATH..., or halo sync, which fetches it), then run halo build again"]
