"""Backup and recovery: `halo export` + `halo load` into an empty data dir rebuild an identical warehouse.

A realistic player (match stats, skill, film highlight events as JSON and as a binary chunk, career-rank
snapshots with and without ObservedAt, history pages, a rejected file) is loaded and built; `halo export`
writes the bronze layer to a folder; loading that folder (plus the same reference data) into an EMPTY
data dir and building gives the same rows in every mart and every raw table (load times and file paths
aside).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import FILM, RESPONSES, built_metadata

from loader.core.paths import player_db_path
from loader.demo import generate_player_matches

GAMERTAG = "Export Chief"
XUID = 2533274900000101
ROOT = Path(__file__).resolve().parents[1]
VOLATILE = {"loaded_at", "rejected_at", "created_at", "source_path", "_loaded_at", "built_at"}


def halo(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HALO_DATA_DIR=str(root), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "loader.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)


def tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                                      "AND table_type = 'BASE TABLE' ORDER BY 1", [schema]).fetchall()]


def contents(db: Path, schema: str) -> dict[str, list[tuple]]:
    """Every row of every table of `schema` (volatile columns aside), sorted."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table in tables(con, schema):
            columns = [c for (c,) in con.execute("SELECT column_name FROM information_schema.columns WHERE "
                                                 "table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                                                 [schema, table]).fetchall() if c not in VOLATILE]
            select = ", ".join(f'"{c}"' for c in columns)
            out[table] = sorted((tuple(map(_exact, row)) for row in
                                 con.execute(f'SELECT {select} FROM {schema}."{table}"').fetchall()), key=repr)
    return out


def _exact(value: object) -> object:
    """Doubles to 12 significant digits: sums over rows in another order differ in the last bit."""
    return float(f"{value:.12g}") if isinstance(value, float) else value


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(player folder, reference folder) of a realistic generated player, plus the real film chunk,
    a career snapshot without ObservedAt (dated by its file time) and a broken file."""
    base = tmp_path_factory.mktemp("export_source")
    manifest = generate_player_matches(base / "gen", gamertag=GAMERTAG, xuid=XUID, n_matches=80, seed=9,
                                       film_share=0.3, with_reference=True)
    folder = manifest.players[0][2]
    shutil.copy2(FILM / "38_63391382-6b88-43f9-9ff4-6313404c419c.gzip", folder)  # stored even without its match
    undated = folder / "career_rank_undated.json"
    undated.write_text('{"CurrentProgress": {"Rank": 12, "PartialProgress": 300, "HasReachedMaxRank": false}, '
                       f'"SpartanId": "xuid({XUID})"}}')
    os.utime(undated, (1_700_000_000, 1_700_000_000))
    (folder / "broken.json").write_text('{"MatchId": "truncated')
    # snapshots and a profile lookup: the service record names no player; the CSR response names the owner and,
    # in its file name, its playlist (kept by the export's name)
    shutil.copy2(RESPONSES / "get_service_record.json", folder / "service_record.json")
    csr = json.loads((RESPONSES / "get_playlist_csr.json").read_text())
    csr["Value"][0]["Id"] = f"xuid({XUID})"
    (folder / "csr_edfef3ac-9cbe-4fa2-b949-8f29deafd483.json").write_text(json.dumps(csr))
    (folder / "users.json").write_text(json.dumps([{"xuid": str(XUID + 1), "gamertag": "Export Mate"}]))
    return folder, manifest.reference_dir


def test_export_then_restore_into_an_empty_data_dir_gives_the_same_warehouse(tmp_path: Path, source) -> None:
    folder, reference = source
    original, restored, backup = tmp_path / "original", tmp_path / "restored", tmp_path / "backup"
    for root in (original, restored):
        built_metadata(root, reference)
    loaded = halo(original, "load", "matches", "--player", GAMERTAG, "--xuid", str(XUID), str(folder))
    assert loaded.returncode == 1, loaded.stderr  # the broken file is rejected, the rest loads
    built = halo(original, "build", "--player", GAMERTAG)
    assert built.returncode == 0, built.stdout + built.stderr

    exported = halo(original, "export", "--player", GAMERTAG, str(backup))
    assert exported.returncode == 0, exported.stderr
    assert "rejected" in exported.stdout
    assert (backup / "rejected").is_dir()  # kept in the backup, never reloaded

    restore = halo(restored, "load", "matches", "--player", GAMERTAG, "--xuid", str(XUID), str(backup))
    assert restore.returncode == 0, restore.stdout + restore.stderr  # rejected/ is not reloaded
    built = halo(restored, "build", "--player", GAMERTAG)
    assert built.returncode == 0, built.stdout + built.stderr

    a, b = player_db_path(GAMERTAG, original), player_db_path(GAMERTAG, restored)
    raw_a, raw_b = contents(a, "raw"), contents(b, "raw")
    assert set(raw_a) == set(raw_b)
    for table in raw_a:
        if table == "rejected":
            continue  # the restore never reloads rejected files; the backup keeps their bytes
        assert raw_a[table] == raw_b[table], f"raw.{table} differs after restore"
    marts_a, marts_b = contents(a, "main"), contents(b, "main")
    assert {"match_stats", "match_participants", "medals_earned", "highlight_events", "antagonists",
            "teammates_aggregate", "career_progression", "sessions", "mv_map_stats", "mv_mode_stats",
            "mv_session_stats", "mv_global_stats"} <= set(marts_a)
    assert set(marts_a) == set(marts_b)
    for table in marts_a:
        assert marts_a[table], f"main.{table} is empty: the comparison would prove nothing"
        assert marts_a[table] == marts_b[table], f"main.{table} differs after restore"
    rejected = [p.name for p in (backup / "rejected").iterdir()]
    assert len(rejected) == 1 and rejected[0].startswith("broken.json.")
    assert (backup / "rejected" / rejected[0]).read_bytes() == (folder / "broken.json").read_bytes()


def test_export_of_an_unknown_player_is_a_usage_error(tmp_path: Path) -> None:
    result = halo(tmp_path / "data", "export", "--player", "Nobody", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "nothing to export" in result.stderr and "Traceback" not in result.stderr
