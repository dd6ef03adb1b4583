"""One `halo load PATH...` for a whole folder of SPNKr responses (issue 18, points 1, 2 and 4).

The fixture folder is loaded as a new user would load their downloads: one command, reference documents to the
metadata database, player documents to the player's, what the project does not store listed with the reason. After
`halo build`, the names of the fixtures' assets, the gamertags of the profile lookup and the service record and
playlist CSR marts are compared with the JSON files read with plain `json`.
"""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import FILM, FIXTURES, OWNER_XUID, RESPONSES

GAMERTAG = "Spartan001"
SLAYER_ID = json.loads((RESPONSES / "get_match_stats.json").read_text())["MatchId"]
SMALL_MATCH_ID = json.loads((FILM / "match_stats.json").read_text())["MatchId"]
PROFILE = FIXTURES / "profile" / "get_users_by_id.json"
SNAPSHOT_TIME = dt.datetime(2025, 2, 1, 12, 0, 0)  # mtime given to the service record and CSR copies (UTC)


def halo(*args: str, root: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loader.cli", *args], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "HALO_DATA_DIR": str(root), **env})


def query(db: Path, sql: str) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        result = con.execute(sql)
        columns = [d[0] for d in result.description]
        return [dict(zip(columns, row)) for row in result.fetchall()]
    finally:
        con.close()


def iso_seconds(duration: str) -> float:
    """`P17DT10H55M53.7685509S` -> seconds, by hand."""
    found = re.fullmatch(r"P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", duration)
    days, hours, minutes, seconds = (float(g or 0) for g in found.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def the_folder(tmp: Path) -> Path:
    """The whole fixture folder, with the two files that need a name the loader reads renamed as the messages say
    (the skill response names no match; the small film chunk's name has no version and match)."""
    folder = tmp / "downloads"
    shutil.copytree(FIXTURES, folder)
    (folder / "halo-api" / "responses" / "get_match_skill.json").rename(
        folder / "halo-api" / "responses" / f"skill_{SLAYER_ID}.json")
    (folder / "halo-api" / "film" / "highlight_events.gzip").rename(
        folder / "halo-api" / "film" / f"37_{SMALL_MATCH_ID}.gzip")
    stamp = SNAPSHOT_TIME.replace(tzinfo=dt.UTC).timestamp()
    for name in ("get_service_record.json", "get_playlist_csr.json"):
        os.utime(folder / "halo-api" / "responses" / name, (stamp, stamp))
    return folder


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("one-load")
    root = tmp / "data"
    folder = the_folder(tmp)
    load = halo("load", str(folder), "--player", GAMERTAG, "--xuid", str(OWNER_XUID), root=root)
    # dbt's target folder of this test process (tests/conftest.py), not a new one: its partial-parse state spares
    # each build a parse of the whole project
    build = halo("build", "--player", GAMERTAG, root=root)
    return {"root": root, "folder": folder, "load": load, "build": build,
            "db": next(root.glob("players/*/stats.duckdb")), "meta": root / "warehouse" / "metadata.duckdb"}


def test_one_load_of_the_whole_folder_exits_0_and_lists_what_is_not_stored(loaded: dict) -> None:
    load = loaded["load"]
    assert load.returncode == 0, load.stdout + load.stderr
    for name, reason in (("get_film_by_match_id.json", "film metadata"), ("get_match_count.json", "match count")):
        line = next(line for line in load.stdout.splitlines() if name in line)
        assert line.startswith("not stored ") and reason in line
    kinds = dict(duckdb.connect(str(loaded["db"]), read_only=True).execute(
        "SELECT kind, count(*) FROM raw.documents GROUP BY kind").fetchall())
    assert kinds == {"match_stats": 7, "match_history": 1, "match_skill": 1, "highlight_events": 2,
                     "career_rank": 1, "service_record": 1, "playlist_csr": 1, "profile_users": 1}
    meta = dict(duckdb.connect(str(loaded["meta"]), read_only=True).execute(
        "SELECT kind, count(*) FROM raw.documents GROUP BY kind").fetchall())
    assert sum(meta.values()) == 11  # 8 API reference responses + 3 files of tests/fixtures/reference
    assert loaded["build"].returncode == 0, loaded["build"].stdout[-4000:] + loaded["build"].stderr[-2000:]


def test_names_where_the_fixtures_have_the_assets(loaded: dict) -> None:
    assets = {kind: json.loads((RESPONSES / f"get_{kind}.json").read_text())
              for kind in ("map", "playlist", "ugc_game_variant")}
    rows = query(loaded["db"], "SELECT match_id, playlist_asset_id, playlist_name, map_name, game_variant_name "
                               "FROM main.match_stats")
    playlist = assets["playlist"]
    on_playlist = [r for r in rows if r["playlist_asset_id"] == playlist["AssetId"]]
    matches = [json.loads(p.read_text()) for p in RESPONSES.glob("get_match_stats*.json")]
    assert len(on_playlist) == sum(1 for m in matches
                                   if (m["MatchInfo"].get("Playlist") or {}).get("AssetId") == playlist["AssetId"])
    assert on_playlist and {r["playlist_name"] for r in on_playlist} == {playlist["PublicName"]}
    # no fixture match is played on the fixtures' map or game variant asset: their names are in the metadata
    maps = query(loaded["meta"], "SELECT asset_id, name FROM main.maps")
    variants = query(loaded["meta"], "SELECT asset_id, name FROM main.game_variants")
    assert {"asset_id": assets["map"]["AssetId"], "name": assets["map"]["PublicName"]} in maps
    assert {"asset_id": assets["ugc_game_variant"]["AssetId"],
            "name": assets["ugc_game_variant"]["PublicName"]} in variants


def test_gamertags_of_the_slayer_match_come_from_the_profile_lookup(loaded: dict) -> None:
    profile = {int(u["xuid"]): u["gamertag"] for u in json.loads(PROFILE.read_text())}
    slayer = json.loads((RESPONSES / "get_match_stats.json").read_text())
    humans = {int(p["PlayerId"][5:-1]) for p in slayer["Players"] if p["PlayerId"].startswith("xuid(")}
    assert humans <= set(profile)
    rows = query(loaded["db"], f"SELECT xuid, gamertag FROM main.match_participants WHERE match_id = '{SLAYER_ID}'")
    assert {r["xuid"]: r["gamertag"] for r in rows if r["xuid"] is not None} == {x: profile[x] for x in humans}
    teammates = {r["teammate_xuid"]: r["gamertag"] for r in query(
        loaded["db"], "SELECT teammate_xuid, gamertag FROM main.teammates_aggregate")}
    assert {x: teammates[x] for x in humans - {OWNER_XUID} if x in teammates} == \
        {x: profile[x] for x in humans - {OWNER_XUID} if x in teammates}
    assert len([x for x in humans if x in teammates]) == len(humans) - 1


def test_service_record_equals_the_json(loaded: dict) -> None:
    record = json.loads((RESPONSES / "get_service_record.json").read_text())
    rows = query(loaded["db"], "SELECT * FROM main.service_record")
    assert len(rows) == 1
    row = rows[0]
    core = record["CoreStats"]
    expected = {"owner_xuid": OWNER_XUID, "observed_at": SNAPSHOT_TIME, "observed_at_source": "file_mtime",
                "time_played_s": iso_seconds(record["TimePlayed"]), "matches_completed": record["MatchesCompleted"],
                "wins": record["Wins"], "losses": record["Losses"], "ties": record["Ties"],
                "average_kda": core["AverageKDA"]}
    pascal = {c: "".join(w.capitalize() for w in c.split("_")) for c in row}
    expected.update({c: core[p] for c, p in pascal.items() if c not in expected and p in core})
    assert set(row) - set(expected) == {"snapshot_id"}
    numbers = {c for c, v in expected.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    assert {c: row[c] for c in numbers} == pytest.approx({c: expected[c] for c in numbers}, abs=1e-6)
    assert {c: row[c] for c in expected if c not in numbers} == {c: expected[c] for c in expected if c not in numbers}


def test_csr_snapshots_equal_the_json(loaded: dict) -> None:
    response = json.loads((RESPONSES / "get_playlist_csr.json").read_text())
    mine = next(v for v in response["Value"] if v["Id"] == f"xuid({OWNER_XUID})")["Result"]
    rows = query(loaded["db"], "SELECT * FROM main.csr_snapshots")
    expected = {"owner_xuid": OWNER_XUID, "playlist_asset_id": None, "playlist_name": None,
                "observed_at": SNAPSHOT_TIME, "observed_at_source": "file_mtime", "result_code": 0}
    for column, block in (("current", "Current"), ("season_max", "SeasonMax"), ("all_time_max", "AllTimeMax")):
        expected.update({f"{column}_csr": mine[block]["Value"], f"{column}_tier": mine[block]["Tier"],
                         f"{column}_sub_tier": mine[block]["SubTier"]})
    expected.update(current_tier_start=mine["Current"]["TierStart"],
                    current_measurement_matches_remaining=mine["Current"]["MeasurementMatchesRemaining"])
    assert [{c: r[c] for c in r if c != "snapshot_id"} for r in rows] == [expected]


def test_the_fixture_folder_as_it_is_stores_all_but_the_two_files_whose_names_say_nothing(tmp_path: Path) -> None:
    """The folder unrenamed: the two files that cannot be placed (a skill response names no match, the small chunk's
    name has neither version nor match) are the only rejections, each saying how to name it; exit 1 (something was
    rejected); every other document is stored, the counts as in the renamed load less those two."""
    folder = tmp_path / "downloads"
    shutil.copytree(FIXTURES, folder)
    root = tmp_path / "data"
    load = halo("load", str(folder), "--player", GAMERTAG, "--xuid", str(OWNER_XUID), root=root)
    assert load.returncode == 1, load.stdout + load.stderr
    assert "Traceback" not in load.stderr
    (db,) = root.glob("players/*/stats.duckdb")
    with duckdb.connect(str(db), read_only=True) as con:
        kinds = dict(con.execute("SELECT kind, count(*) FROM raw.documents GROUP BY kind").fetchall())
        rejected = con.execute("SELECT source_path, reason FROM raw.rejected ORDER BY 1").fetchall()
    assert kinds == {"match_stats": 7, "match_history": 1, "highlight_events": 1, "career_rank": 1,
                     "service_record": 1, "playlist_csr": 1, "profile_users": 1}
    assert [Path(p).relative_to(folder).as_posix() for p, _ in rejected] == [
        "halo-api/film/highlight_events.gzip", "halo-api/responses/get_match_skill.json"]
    assert "rename it <FilmMajorVersion>_<match-id>.gzip" in rejected[0][1]
    assert "skill_<match-id>.json" in rejected[1][1]
    with duckdb.connect(str(root / "warehouse" / "metadata.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.documents").fetchall() == [(11,)]


# ---------------------------------------------------------------------------------------------- point 1: usage


def test_player_documents_without_player_are_a_usage_error_and_create_nothing(tmp_path: Path) -> None:
    root = tmp_path / "data"
    proc = halo("load", str(RESPONSES), root=root)
    assert proc.returncode == 2
    assert "found player documents (" in proc.stderr and "6 match stats" in proc.stderr
    assert "pass --player GAMERTAG" in proc.stderr
    assert not root.exists()


def test_reference_documents_need_no_player(tmp_path: Path) -> None:
    root = tmp_path / "data"
    proc = halo("load", str(FIXTURES / "reference"), str(RESPONSES / "get_map.json"), root=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (root / "warehouse" / "metadata.duckdb").is_file()
    assert not (root / "players").exists()


# ---------------------------------------------------------------------------------------------- point 4: messages


def rejections(db: Path) -> dict[str, str]:
    return {Path(r["source_path"]).name: r["reason"] for r in query(db, "SELECT source_path, reason FROM raw.rejected")}


def test_misnamed_film_chunk_is_recognised_and_the_message_says_how_to_name_it(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FILM / "highlight_events.gzip", folder / "highlight_events.gzip")
    shutil.copy(FILM / "highlight_events.gzip", folder / f"film-{SMALL_MATCH_ID}.gzip")
    root = tmp_path / "data"
    proc = halo("load", "matches", "--player", GAMERTAG, "--xuid", str(OWNER_XUID), str(folder), root=root)
    assert proc.returncode == 1
    reasons = rejections(next(root.glob("players/*/stats.duckdb")))
    plain = reasons["highlight_events.gzip"]
    assert plain.startswith("a film highlight chunk (it decodes as film major version 30-38, 41)")
    assert "rename it <FilmMajorVersion>_<match-id>.gzip" in plain and "UTF-8" not in plain
    assert f"rename it <FilmMajorVersion>_{SMALL_MATCH_ID}.gzip" in reasons[f"film-{SMALL_MATCH_ID}.gzip"]


def test_skill_without_match_id_says_so_and_names_the_file_pattern(tmp_path: Path) -> None:
    root = tmp_path / "data"
    proc = halo("load", "matches", "--player", GAMERTAG, "--xuid", str(OWNER_XUID),
                str(RESPONSES / "get_match_skill.json"), root=root)
    assert proc.returncode == 1
    reason = rejections(next(root.glob("players/*/stats.duckdb")))["get_match_skill.json"]
    assert reason.startswith("match skill without a match id: the API's skill response does not name its match")
    assert "skill_<match-id>.json" in reason


@pytest.mark.parametrize("form", [["load", "matches"], ["load"]])
def test_refused_first_load_creates_no_database(tmp_path: Path, form: list[str]) -> None:
    root = tmp_path / "data"
    proc = halo(*form, "--player", GAMERTAG, str(RESPONSES / "get_match_stats.json"), root=root)
    assert proc.returncode == 2
    assert "first load of player 'Spartan001': pass --xuid" in proc.stderr
    assert not root.exists()


def test_a_folder_named_matches_is_loaded_as_a_path_with_a_slash(tmp_path: Path) -> None:
    folder = tmp_path / "matches"
    folder.mkdir()
    shutil.copy(RESPONSES / "get_map.json", folder / "get_map.json")
    root = tmp_path / "data"
    proc = subprocess.run([sys.executable, "-m", "loader.cli", "load", "matches/"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env={**os.environ, "HALO_DATA_DIR": str(root)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "reference documents" in proc.stdout and (root / "warehouse" / "metadata.duckdb").is_file()
    bare = subprocess.run([sys.executable, "-m", "loader.cli", "load", "matches", "matches"], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path, env={**os.environ, "HALO_DATA_DIR": str(root)})
    assert bare.returncode == 2 and "--player" in bare.stderr  # `matches` first: the sub-command


def test_build_of_a_database_loaded_before_the_new_raw_tables(loaded: dict, tmp_path: Path) -> None:
    root = tmp_path / "data"
    # the metadata database as the module's build left it (its reference data holds get_map.json, so the load
    # below leaves it unchanged and the build does not build it again): the player's file is the subject
    shutil.copytree(loaded["meta"].parent, root / "warehouse")
    assert halo("load", str(RESPONSES / "get_match_stats.json"), str(RESPONSES / "get_map.json"), "--player",
                GAMERTAG, "--xuid", str(OWNER_XUID), root=root).returncode == 0
    db = next(root.glob("players/*/stats.duckdb"))
    with duckdb.connect(str(db)) as con:  # as written before service records, CSR and profiles were stored
        for table in ("service_record_snapshots", "playlist_csr_snapshots", "profile_users"):
            con.execute(f"DROP TABLE raw.{table}")
    build = halo("build", "--player", GAMERTAG, root=root)  # dbt's target folder of this process, as the fixture's
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-2000:]
    assert query(db, "SELECT count(*) AS n FROM main.service_record") == [{"n": 0}]
