"""Marts keyed by owner: one DuckDB database holding the raw layer of two owners who share matches gives, for each
owner, the rows that owner's own file gives.

Each owner is loaded into a file of their own with the real loader (`load_matches`): owner A (the fixtures' owner)
with every sample, owner B (XUID 2533274900000034, a player of six of the samples, A's teammate in some and
opponent in others) with the matches B played. The two raw schemas are then copied into one database with SQL.
The raw layer has no owner column and needs none: its rows are whole matches (every player, every film event), the
same in both files, so the copy keeps one row per loader primary key; which matches belong to which owner follows
from the owner's own player row (docs/definitions.md#owner). The three databases are built with `dbt build`, in this
process with one parse for all three (`DbtProject`, as `halo build` does; dbt's unit tests, which read fixed fixtures
and no player's data, run in tests/test_marts.py's `dbt build` from the shell).

Expected values: each owner's own file, built alone (that file's marts are checked against the raw JSON by
tests/test_marts.py). `loaded_at` is left out of the comparison: it is when the warehouse last received any
document of the match, which in the shared database is the later of the two loads.
"""

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import FILM, MATCH_STATS_FILES, OWNER_XUID, RESPONSES, read_json
from test_marts import FILM_38, REFERENCE_API_FILES, SLAYER_ID, SMALL_FILM_MATCH_ID, query

from loader.core.paths import player_db_path
from loader.ingest import raw_tables
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference
from loader.warehouse.dbt_runner import DbtProject

OTHER_XUID = 2533274900000034
OWNERS = {OWNER_XUID: "Spartan001", OTHER_XUID: "Spartan007"}  # the gamertags film 38 gives them
PER_OWNER_MARTS = ["tracked_players", "match_stats", "sessions", "medals_earned", "antagonists",
                   "teammates_aggregate", "career_progression", "mv_map_stats", "mv_mode_stats",
                   "mv_session_stats", "mv_global_stats", "match_stats_season_archive"]
MATCH_LEVEL_MARTS = ["match_participants", "highlight_events", "int_kill_events_paired"]


def columns(db: Path, table: str) -> list[str]:
    rows = query(db, "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                     "AND table_schema = 'main' AND table_catalog = current_database() ORDER BY ordinal_position",
                 [table])
    return [r["column_name"] for r in rows if r["column_name"] not in ("loaded_at", "is_owner")]


def rows_of(db: Path, table: str, where: str, params: list) -> list[tuple]:
    """The rows, floats to 9 decimals (an average over the same rows in another physical order may differ in the
    last bit)."""
    names = ", ".join(f'"{c}"' for c in columns(db, table))
    rows = query(db, f"SELECT {names} FROM {table} WHERE {where} ORDER BY ALL", params)
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in r.values()) for r in rows]


def played_by(xuid: int) -> list[Path]:
    return [path for path in MATCH_STATS_FILES
            if any(p["PlayerId"] == f"xuid({xuid})" for p in read_json(path)["Players"])]


def copy_raw_layers(target: Path, sources: list[Path]) -> None:
    """The raw schemas of `sources` in one database: every table's rows, one per loader primary key."""
    con = duckdb.connect(str(target))
    try:
        for index, source in enumerate(sources):
            con.execute(f"ATTACH '{source}' AS source_{index} (READ_ONLY)")
        con.execute("CREATE SCHEMA raw")
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = "
                                            "'source_0' AND schema_name = 'raw' ORDER BY 1").fetchall()]
        for table in tables:
            con.execute(f"CREATE TABLE raw.{table} AS SELECT * FROM source_0.raw.{table}")
            key = raw_tables.PRIMARY_KEYS.get(table, ("xuid",) if table == "owner" else None)
            assert key, f"no key for raw.{table}"
            match = " AND ".join(f"kept.{c} IS NOT DISTINCT FROM new.{c}" for c in key)
            for index in range(1, len(sources)):
                con.execute(f"INSERT INTO raw.{table} SELECT * FROM source_{index}.raw.{table} AS new "
                            f"WHERE NOT EXISTS (SELECT 1 FROM raw.{table} AS kept WHERE {match})")
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("owners")
    root = tmp / "data"
    extra = tmp / "inputs"
    extra.mkdir()
    shutil.copy(RESPONSES / "get_match_skill.json", extra / f"skill_{SLAYER_ID}.json")
    shutil.copy(FILM / "highlight_events.gzip", extra / f"37_{SMALL_FILM_MATCH_ID}.gzip")
    assert load_reference([*REFERENCE_API_FILES], root=root).rejections == []
    project = DbtProject(root)
    metadata = project.build_metadata()
    assert metadata.success, metadata.errors

    # the career rank as the API names its player (SpartanId = the player id; the fixture's is anonymised)
    career = read_json(RESPONSES / "get_player_career_rank.json")
    career["SpartanId"] = f"xuid({OWNER_XUID})"
    (tmp / "career").mkdir()
    (tmp / "career" / "get_player_career_rank.json").write_text(json.dumps(career), encoding="utf-8")
    inputs = {OWNER_XUID: [*MATCH_STATS_FILES, tmp / "career" / "get_player_career_rank.json", FILM_38, extra],
              # the skill sample holds only the first owner's entry: it is not the second owner's (a skill document
              # without the owner is rejected), so only the first owner's file has it
              OTHER_XUID: [*played_by(OTHER_XUID), FILM_38]}
    assert len(played_by(OTHER_XUID)) == 6
    files = {}
    for xuid, gamertag in OWNERS.items():
        loaded = load_matches(gamertag, inputs[xuid], xuid=xuid, root=root)
        assert loaded.rejections == [], [r.reason for r in loaded.rejections]
        files[xuid] = player_db_path(gamertag, root)
    shared = root / "players" / "shared" / "stats.duckdb"
    shared.parent.mkdir(parents=True)
    copy_raw_layers(shared, list(files.values()))
    for name, db in (*((str(x), f) for x, f in files.items()), ("shared", shared)):
        build = project.build_player(name, db, full=True)
        assert build.success and build.tests_failed == 0, build.errors
    return {"files": files, "shared": shared}


def test_the_shared_database_holds_both_owners_and_their_common_matches_once(warehouses: dict) -> None:
    shared = warehouses["shared"]
    assert {r["owner_xuid"] for r in query(shared, "SELECT owner_xuid FROM tracked_players")} == set(OWNERS)
    per_owner = {r["owner_xuid"]: r["n"] for r in query(shared, "SELECT owner_xuid, count(*) AS n FROM match_stats "
                                                                "GROUP BY 1")}
    assert per_owner == {OWNER_XUID: len(MATCH_STATS_FILES), OTHER_XUID: 6}
    assert query(shared, "SELECT count(*) AS n FROM raw.matches") == [{"n": len(MATCH_STATS_FILES)}]
    # both owners are tracked players of the shared matches' participant rows
    owners = query(shared, "SELECT DISTINCT xuid FROM match_participants WHERE is_owner AND match_id = ?", [SLAYER_ID])
    assert {r["xuid"] for r in owners} == set(OWNERS)


@pytest.mark.parametrize("mart", PER_OWNER_MARTS)
def test_each_owners_rows_equal_that_owners_own_file(warehouses: dict, mart: str) -> None:
    for xuid, own_file in warehouses["files"].items():
        own = rows_of(own_file, mart, "owner_xuid = ?", [xuid])
        # every mart has rows of owner A; B has no career-rank snapshot
        assert own or (xuid == OTHER_XUID and mart == "career_progression"), (mart, xuid)
        assert rows_of(warehouses["shared"], mart, "owner_xuid = ?", [xuid]) == own, (mart, xuid)


@pytest.mark.parametrize("mart", MATCH_LEVEL_MARTS)
def test_match_level_rows_of_each_owners_matches_equal_that_owners_own_file(warehouses: dict, mart: str) -> None:
    for xuid, own_file in warehouses["files"].items():
        matches = [r["match_id"] for r in query(own_file, "SELECT match_id FROM match_stats")]
        where = f"match_id IN ({', '.join('?' for _ in matches)})"
        own = rows_of(own_file, mart, where, matches)
        assert own, (mart, xuid)
        assert rows_of(warehouses["shared"], mart, where, matches) == own, (mart, xuid)
