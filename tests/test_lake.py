"""`halo lake`: the Parquet lake of every tracked player's raw layer (README, The lake).

Three demo players (the generator writes a match played together into each friend's folder, byte for byte) are
loaded with the real loader and exported with the real `halo lake`. Expected values come from the demo's JSON files
read with plain json: which match ids each folder holds, each match's players and start time.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from loader.cli.main import main
from loader.core.paths import player_db_path
from loader.demo.generate import FIRST_XUID, generate_demo, generate_player_matches
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference
from loader.warehouse.lake import MANIFEST_NAME, STAGING_PREFIX, export_lake, lake_dir

ROOT = Path(__file__).resolve().parents[1]
MATCHES_PER_PLAYER = 40
SEED = 5  # a seed whose schedule has a session of all three friends
PLAYERS = ("Demo Chief", "Demo Arbiter", "Demo Cortana")


def match_files(folder: Path) -> dict[str, dict]:
    """Match id -> match-stats document, for the match-stats files of a demo folder."""
    out = {}
    for path in folder.glob("*.json"):
        doc = json.loads(path.read_bytes())
        if isinstance(doc, dict) and "MatchInfo" in doc and "Players" in doc:  # not skill, film, history, career
            out[doc["MatchId"]] = doc
    return out


def load_all(root: Path, folders: dict[str, Path], reference: Path | None) -> None:
    if reference is not None:
        assert load_reference([reference], root=root).counts.rejected == 0
    for index, gamertag in enumerate(PLAYERS):
        if gamertag in folders:
            loaded = load_matches(gamertag, [folders[gamertag]], xuid=FIRST_XUID + index, root=root)
            assert loaded.counts.rejected == 0, [r.reason for r in loaded.rejections]


def snapshot(lake: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file of the lake: (inode, mtime_ns, bytes)."""
    out = {}
    for path in sorted(lake.rglob("*")):
        if path.is_file() and not path.relative_to(lake).parts[0].startswith(STAGING_PREFIX):
            stat = path.stat()
            out[path.relative_to(lake).as_posix()] = (stat.st_ino, stat.st_mtime_ns, path.read_bytes())
    return out


def lake_rows(lake: Path) -> dict[str, list[tuple]]:
    """Every Parquet file's rows, sorted (the same lake: the same files holding the same rows)."""
    con = duckdb.connect()
    out = {}
    for path in sorted(lake.rglob("*.parquet")):
        if path.relative_to(lake).parts[0].startswith(STAGING_PREFIX):
            continue  # a killed export's staging folder (the next export removes it)
        rows = con.execute("SELECT * FROM read_parquet(?, hive_partitioning = false)", [str(path)]).fetchall()
        out[path.relative_to(lake).as_posix()] = sorted(rows, key=repr)
    return out


def query(lake: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"SET file_search_path = '{lake}'")
    return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("lake")
    manifest = generate_demo(tmp / "source", players=3, matches_per_player=MATCHES_PER_PLAYER, seed=SEED)
    folders = {gamertag: folder for gamertag, _, folder in manifest.players}
    # 25 more matches of the first player (a later sync), written apart
    extra = generate_player_matches(tmp / "extra", gamertag=PLAYERS[0], xuid=FIRST_XUID, n_matches=25, seed=99,
                                    stats_only=True)
    return {"tmp": tmp, "folders": folders, "reference": manifest.reference_dir,
            "extra": extra.players[0][2]}


@pytest.fixture(scope="module")
def exported(demo: dict) -> dict:
    root = demo["tmp"] / "data"
    load_all(root, demo["folders"], demo["reference"])
    first = export_lake(root)
    return {"root": root, "lake": lake_dir(root), "first": first}


def test_a_match_of_three_tracked_players_is_stored_once(demo: dict, exported: dict) -> None:
    lake = exported["lake"]
    per_folder = {g: match_files(f) for g, f in demo["folders"].items()}
    everyone = set.intersection(*(set(m) for m in per_folder.values()))
    assert everyone, "the demo has no match of all three players: choose another SEED"
    match_id = sorted(everyone)[0]
    doc = per_folder[PLAYERS[0]][match_id]
    assert query(lake, "SELECT count(*) FROM read_parquet('matches/*/*/*.parquet') WHERE match_id = ?",
                 [match_id]) == [(1,)]
    assert query(lake, "SELECT count(*) FROM read_parquet('match_players/*/*/*.parquet') WHERE match_id = ?",
                 [match_id]) == [(len(doc["Players"]),)]
    # each owner's own load of it stays in that owner's documents
    assert sorted(query(lake, "SELECT owner_xuid FROM read_parquet('documents/*/*/*/*.parquet', hive_partitioning "
                              "= false) WHERE kind = 'match_stats' AND match_id = ?", [match_id])) == \
        [(FIRST_XUID,), (FIRST_XUID + 1,), (FIRST_XUID + 2,)]
    # every match once: the distinct match ids of the three folders
    all_ids = set().union(*(set(m) for m in per_folder.values()))
    assert len(all_ids) < sum(len(m) for m in per_folder.values())  # some are shared
    assert query(lake, "SELECT count(*), count(DISTINCT match_id) FROM read_parquet('matches/*/*/*.parquet')") == \
        [(len(all_ids), len(all_ids))]
    loaded_rows = sum(len(doc["Players"]) for matches in per_folder.values() for doc in matches.values())
    distinct_players = sum(len(doc["Players"]) for doc in {k: v for matches in per_folder.values()
                                                           for k, v in matches.items()}.values())
    assert loaded_rows > distinct_players
    assert query(lake, "SELECT count(*) FROM read_parquet('match_players/*/*/*.parquet')") == [(distinct_players,)]


def test_the_layout_is_one_folder_per_table_partitioned_by_owner_and_month(demo: dict, exported: dict) -> None:
    lake = exported["lake"]
    tables = sorted(p.name for p in lake.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert tables == sorted(["owner", "documents", "match_history", "career_rank_snapshots", "matches",
                             "match_teams", "match_players", "match_player_medals", "match_player_personal_scores",
                             "match_skill", "match_skill_team_mmrs", "highlight_events"])
    # (service records, CSR and profile lookups: the demo has none, so no folder; metadata models not built: no meta)
    chief = match_files(demo["folders"][PLAYERS[0]])
    months = {(d["MatchInfo"]["StartTime"][:4], d["MatchInfo"]["StartTime"][5:7]) for d in chief.values()}
    history = {p.relative_to(lake / "match_history").as_posix() for p in (lake / "match_history").rglob("*.parquet")}
    assert {h for h in history if h.startswith(f"player={FIRST_XUID}/")} == \
        {f"player={FIRST_XUID}/year={y}/month={m}/data_0.parquet" for y, m in months}
    # a per-owner file: owner_xuid first, then the raw table's columns; zstd
    path = next((lake / "documents").rglob("*.parquet"))
    con = duckdb.connect()
    names = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)",
                                       [str(path)]).fetchall()]
    assert names == ["owner_xuid", "kind", "doc_id", "match_id", "source_path", "source_mtime", "sha256",
                     "byte_size", "loaded_at"]
    codecs = {r[0] for r in con.execute("SELECT DISTINCT compression FROM parquet_metadata(?)", [str(path)])
              .fetchall()}
    assert codecs == {"ZSTD"}


def test_a_second_export_with_nothing_new_changes_no_file(exported: dict, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture) -> None:
    lake = exported["lake"]
    before = snapshot(lake)
    monkeypatch.setenv("HALO_DATA_DIR", str(exported["root"]))
    assert main(["lake"]) == 0
    assert "lake: up to date (3 players" in capsys.readouterr().err
    again = export_lake(exported["root"])
    assert (again.changed, again.written, again.removed) == (False, [], [])
    assert snapshot(lake) == before


def test_adding_25_matches_rewrites_only_their_partitions(demo: dict, exported: dict) -> None:
    root, lake = exported["root"], exported["lake"]
    before = snapshot(lake)
    new = match_files(demo["extra"])
    assert len(new) == 25
    loaded = load_matches(PLAYERS[0], [demo["extra"]], root=root)
    assert loaded.counts.loaded == 25
    result = export_lake(root)
    after = snapshot(lake)
    changed = {path for path in after if path in before and after[path] != before[path]}
    added = set(after) - set(before)
    assert set(before) - set(after) == set()
    months = {f"year={d['MatchInfo']['StartTime'][:4]}/month={d['MatchInfo']['StartTime'][5:7]}"
              for d in new.values()}
    loaded_at = query(lake, "SELECT DISTINCT strftime(loaded_at, 'year=%Y/month=%m') FROM read_parquet("
                            "'documents/*/*/*/*.parquet', hive_partitioning = false) WHERE doc_id IN "
                            "(SELECT unnest(?))", [sorted(new)])
    assert len(loaded_at) == 1
    documents = f"documents/player={FIRST_XUID}/{loaded_at[0][0]}/data_0.parquet"
    # the match-level tables these documents fill, in the new matches' months; the owner's documents partition
    expected = {f"{table}/{month}/data_0.parquet" for month in months
                for table in ("matches", "match_players", "match_teams", "match_player_medals",
                              "match_player_personal_scores")}
    expected = {path for path in expected if path in after} | {documents, "_manifest.json"}
    assert {f"matches/{m}/data_0.parquet" for m in months} <= expected
    assert changed | added == expected
    assert sorted(result.written) == sorted(p.rsplit("/", 1)[0] for p in expected if p != "_manifest.json")
    assert query(lake, "SELECT count(*) FROM read_parquet('matches/*/*/*.parquet') WHERE match_id IN "
                       "(SELECT unnest(?))", [sorted(new)]) == [(25,)]


KILL_POINTS = ("owner", "matches")  # staging folders: a table's COPY began (per-owner tables first, then matches)


def run_killed(root: Path, lake: Path, point: str) -> None:
    """`halo lake` in its own process, SIGKILLed once its staging folder holds `point`."""
    env = {**os.environ, "HALO_DATA_DIR": str(root)}
    process = subprocess.Popen([sys.executable, "-m", "loader.cli", "lake"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if any(lake.glob(f".staging-*/{point}")):
                break
            time.sleep(0.002)
        assert process.poll() is None, f"the export ended before it reached {point}: {process.communicate()}"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL


def test_an_export_killed_midway_leaves_a_readable_lake_and_the_next_completes_it(demo: dict,
                                                                                  tmp_path: Path) -> None:
    root = tmp_path / "data"
    folders = dict(demo["folders"])
    load_all(root, {g: f for g, f in folders.items() if g != PLAYERS[2]}, demo["reference"])
    assert export_lake(root).changed
    lake = lake_dir(root)
    old_manifest = (lake / MANIFEST_NAME).read_bytes()
    old_rows = lake_rows(lake)
    load_all(root, {PLAYERS[2]: folders[PLAYERS[2]]}, None)  # a third player: most partitions change
    load_matches(PLAYERS[0], [demo["extra"]], root=root)
    states = []
    for point in KILL_POINTS:
        run_killed(root, lake, point)
        # readable: the old manifest, every file a whole Parquet file of the old or the new export
        assert (lake / MANIFEST_NAME).read_bytes() == old_manifest
        rows = lake_rows(lake)
        states.append(rows)
    # the second kill came after the per-owner partitions were renamed into place: a mix of old and new files
    assert states[1] != old_rows
    assert set(old_rows) <= set(states[1])
    assert export_lake(root).changed
    # a clean export of the same players into another data folder
    clean_root = tmp_path / "clean"
    shutil.copytree(root / "players", clean_root / "players")
    shutil.copytree(root / "warehouse", clean_root / "warehouse", ignore=shutil.ignore_patterns("lake"))
    export_lake(clean_root)
    assert lake_rows(lake) == lake_rows(lake_dir(clean_root))
    manifests = [json.loads((d / MANIFEST_NAME).read_text())["partitions"] for d in (lake, lake_dir(clean_root))]
    assert manifests[0] == manifests[1]
    assert not list(lake.glob(".staging-*"))
    # the owners' documents: every owner's own loads, none lost
    counts = Counter(r[0] for r in query(lake, "SELECT owner_xuid FROM read_parquet('documents/*/*/*/*.parquet', "
                                               "hive_partitioning = false) WHERE kind = 'match_stats'"))
    assert counts == {FIRST_XUID: MATCHES_PER_PLAYER + 25, FIRST_XUID + 1: MATCHES_PER_PLAYER,
                      FIRST_XUID + 2: MATCHES_PER_PLAYER}
    assert player_db_path(PLAYERS[0], root).is_file()


def test_a_film_whose_match_stats_are_not_loaded_is_kept_under_its_load_month(demo: dict, tmp_path: Path) -> None:
    film = next(demo["folders"][PLAYERS[0]].glob("*.highlights.json"))
    events = json.loads(film.read_bytes())["Events"]
    root = tmp_path / "data"
    loaded = load_matches(PLAYERS[0], [film], xuid=FIRST_XUID, root=root)
    assert loaded.counts.loaded == 1, [r.reason for r in loaded.rejections]
    export_lake(root)
    lake = lake_dir(root)
    month = query(lake, "SELECT strftime(loaded_at, 'year=%Y/month=%m') FROM read_parquet('documents/*/*/*/*.parquet',"
                        " hive_partitioning = false)")
    assert [p.relative_to(lake).as_posix() for p in (lake / "highlight_events").rglob("*.parquet")] == \
        [f"highlight_events/{month[0][0]}/data_0.parquet"]
    assert query(lake, "SELECT count(*) FROM read_parquet('highlight_events/*/*/*.parquet')") == [(len(events),)]
    assert not (lake / "matches").exists()
