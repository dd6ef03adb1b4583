"""Every document the loader accepts can be built (README, Guarantees).

Per field, written down in the models: a `MatchInfo.SeasonId` longer than 64 characters is rejected at load time
(the reason names the field, its length and the limit); the season archive holds every other accepted value: its
integers are BIGINT (the loader keeps integers to 17 digits and a player to 64 team entries) and its season folder
names keep only `[A-Za-z0-9._-]`; an outcome code the seed does not know is data, reported by a warning test, never
a failed build. A build that fails all the same never prints or logs a message longer than ~2,000 characters.

The documents are the real fixtures with plain json edits; expected values come from those edits and the fixture
JSON, never from the code under test. The fuzz test reuses tests/test_fuzz.py's mutations of the real samples: for
each mutated document the loader accepts, a real build of that player succeeds and the marts agree with the raw
layer (and the archive with the marts).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import MATCH_STATS_FILES, OWNER_ID, OWNER_XUID, REFERENCE, RESPONSES, ROOT, built_metadata, read_json
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_fuzz import DOCUMENTS, EDGE_INTS, NUMERIC_PATHS, mutations

from loader.core.paths import player_db_path
from loader.ingest.load_matches import load_matches
from loader.warehouse.build import build_players
from loader.warehouse.dbt_runner import DbtProject

REFERENCE_API_FILES = [RESPONSES / f"get_{name}.json" for name in (
    "medal_metadata", "career_reward_track", "season_calendar", "csr_season_calendar", "playlist", "map",
    "map_mode_pair", "ugc_game_variant")]
GAMERTAG = "Accepted Spartan"
SLAYER, CTF, ODDBALL, ZONES, INFECTION = (read_json(RESPONSES / f"get_match_stats{suffix}.json") for suffix in
                                          ("", "_ctf", "_oddball", "_zones", "_infection"))
# 64 characters, the limit: spaces, quotes, a colon and non-ASCII letters in the part that names the season
ODD_SEASON_KEY = "Season 10: “Ω” o'clock"
ODD_SEASON_ID = f"Csr/Seasons/{ODD_SEASON_KEY}".ljust(59, "x") + ".json"
assert len(ODD_SEASON_ID) == 64


def halo(root: Path, logs: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HALO_DATA_DIR=str(root), PYTHONPATH=str(ROOT), DBT_LOG_PATH=str(logs))
    return subprocess.run([sys.executable, "-m", "loader.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def owner(doc: dict) -> dict:
    return next(p for p in doc["Players"] if p["PlayerId"] == OWNER_ID)


def other(doc: dict) -> dict:
    return next(p for p in doc["Players"] if p["PlayerId"] != OWNER_ID and p["PlayerId"].startswith("xuid("))


@pytest.fixture(scope="module")
def reference_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("accepted") / "data"
    built_metadata(root, *REFERENCE_API_FILES, REFERENCE)
    return root


@pytest.fixture(scope="module")
def tester_documents(reference_root: Path) -> dict:
    """The tester's documents (and an unknown outcome code, and the longest accepted season id), loaded in one
    `halo load` and built with `halo build`."""
    kills = json.loads(json.dumps(SLAYER))
    owner(kills)["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Kills"] = 40000
    known_new_code = json.loads(json.dumps(CTF))
    other(known_new_code)["Outcome"] = 5
    unknown_code = json.loads(json.dumps(ODDBALL))
    other(unknown_code)["Outcome"] = 9
    long_season = json.loads(json.dumps(ZONES))
    long_season["MatchInfo"]["SeasonId"] = "Csr/Seasons/" + "S" * 288
    odd_season = json.loads(json.dumps(INFECTION))
    odd_season["MatchInfo"]["SeasonId"] = ODD_SEASON_ID
    src = reference_root.parent / "tester"
    src.mkdir()
    docs = {"kills": kills, "outcome5": known_new_code, "outcome9": unknown_code, "long_season": long_season,
            "odd_season": odd_season}
    for name, doc in docs.items():
        (src / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    logs = reference_root.parent / "logs"
    load = halo(reference_root, logs, "load", "matches", "--player", GAMERTAG, "--xuid", str(OWNER_XUID), str(src))
    build = halo(reference_root, logs, "build", "--player", GAMERTAG)
    return {"docs": docs, "load": load, "build": build, "db": player_db_path(GAMERTAG, reference_root)}


def test_season_id_over_64_characters_is_rejected_naming_the_field_and_the_limit(tester_documents: dict) -> None:
    load = tester_documents["load"]
    assert load.returncode == 1, load.stdout + load.stderr  # 1 = some documents rejected
    zones_id = ZONES["MatchId"]
    rejected = rows(tester_documents["db"], "SELECT match_id, reason, body FROM raw.rejected")
    written = json.dumps(tester_documents["docs"]["long_season"], ensure_ascii=False).encode()
    assert [(r[0], r[2]) for r in rejected] == [(zones_id, written)]
    reason = rejected[0][1]
    assert "MatchInfo.SeasonId" in reason and "300 characters; at most 64" in reason, reason
    assert len(reason) < 400, reason
    assert rows(tester_documents["db"], f"SELECT count(*) FROM raw.matches WHERE match_id = '{zones_id}'") == [(0,)]


def test_accepted_tester_documents_build_with_exit_0(tester_documents: dict) -> None:
    build = tester_documents["build"]
    assert build.returncode == 0, build.stdout + build.stderr
    assert "Traceback" not in build.stderr


def test_owner_kills_40000_is_in_the_marts_and_the_archive(tester_documents: dict) -> None:
    db = tester_documents["db"]
    expected = 40000 + sum(entry["Stats"]["CoreStats"]["Kills"] for entry in owner(SLAYER)["PlayerTeamStats"][1:])
    match_id = SLAYER["MatchId"]
    assert rows(db, f"SELECT kills FROM raw.match_players WHERE match_id = '{match_id}' AND xuid = {OWNER_XUID}"
                ) == [(expected,)]
    assert rows(db, f"SELECT kills FROM main.match_stats WHERE match_id = '{match_id}'") == [(expected,)]
    archive = (db.parent / "archive").as_posix()
    assert rows(db, f"SELECT kills FROM read_parquet('{archive}/*/*.parquet', hive_partitioning = true) "
                    f"WHERE match_id = '{match_id}'") == [(expected,)]


def test_outcome_codes_of_other_players_are_data_and_an_unknown_one_is_one_warning(tester_documents: dict) -> None:
    db = tester_documents["db"]
    for doc, code in ((CTF, 5), (ODDBALL, 9)):
        assert rows(db, f"SELECT outcome FROM main.match_participants WHERE match_id = '{doc['MatchId']}' "
                        f"AND player_id = '{other(doc)['PlayerId']}'") == [(code,)]
    # 5 ("Did not start") is a code of the seed `outcomes`; 9 is not: one warning test, naming the mart, shown
    warnings = [line.strip() for line in tester_documents["build"].stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "match_participants" in warnings[0], tester_documents["build"].stderr


def test_a_64_character_season_id_with_any_characters_is_one_safe_archive_folder(tester_documents: dict) -> None:
    db = tester_documents["db"]
    match_id = INFECTION["MatchId"]
    key = ODD_SEASON_ID.removeprefix("Csr/Seasons/").removesuffix(".json")
    assert rows(db, f"SELECT season FROM main.match_stats WHERE match_id = '{match_id}'") == [(key,)]
    folder = "season=" + re.sub(r"[^A-Za-z0-9._-]", "_", key)
    archive = db.parent / "archive"
    assert (archive / folder).is_dir()
    assert rows(db, f"SELECT match_id FROM read_parquet('{(archive / folder).as_posix()}/*.parquet')") == [
        (match_id,)]
    assert sorted(p.name for p in archive.iterdir()) == sorted({folder, "season=CsrSeason9-1"})


def test_a_failing_build_prints_and_logs_bounded_messages(reference_root: Path, tmp_path: Path) -> None:
    """A raw layer the loader would never write (a 200,000-character season id, set with SQL): the build fails on
    the archive's folder name; its messages on the console and in logs/dbt.log are cut at about 2,000 characters."""
    gamertag = "Bounded Spartan"
    loaded = load_matches(gamertag, [RESPONSES / "get_match_stats.json"], xuid=OWNER_XUID, root=reference_root)
    assert loaded.rejections == []
    db = player_db_path(gamertag, reference_root)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE raw.matches SET season_id = 'Csr/Seasons/' || repeat('S', 200000) || '.json'")
    logs = tmp_path / "logs"
    build = halo(reference_root, logs, "build", "--player", gamertag)
    assert build.returncode == 1, build.stdout[-3000:] + build.stderr[-3000:]
    assert "Traceback" not in build.stderr
    assert len(build.stdout) + len(build.stderr) < 15_000, len(build.stdout) + len(build.stderr)
    assert "more characters cut" in build.stderr
    log_lines = (logs / "dbt.log").read_text(encoding="utf-8").splitlines()
    assert max(map(len, log_lines)) < 2_300
    assert sum(map(len, log_lines)) < 200_000


# ------------------------------------------------------------------------------------------- the invariant

BUILDS = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                         HealthCheck.data_too_large])
MATCH_STATS_COLUMNS = "kills, deaths, assists, outcome"


@st.composite
def owner_values(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """test_fuzz's value tweaks aimed at what reaches the owner's marts and the season archive: one of the owner's
    core stats set to a number the loader accepts (up to 17 digits), more of the owner's, the teams' and the match
    info's numbers, and the SeasonId (any text up to 70 characters)."""
    name = draw(st.sampled_from(sorted(path.stem for path in MATCH_STATS_FILES)))
    file_name, original = DOCUMENTS[name]
    doc = json.loads(json.dumps(original))
    at = next(i for i, p in enumerate(doc["Players"]) if p["PlayerId"] == OWNER_ID)
    core = doc["Players"][at]["PlayerTeamStats"][0]["Stats"]["CoreStats"]
    stat = draw(st.sampled_from(sorted(k for k, v in core.items() if type(v) is int)))
    core[stat] = draw(st.one_of(st.sampled_from([2**15, 2**31, 10**17 - 1, -2**31]),
                                st.integers(-10**17 + 1, 10**17 - 1)))
    pool = [p for p in NUMERIC_PATHS[name] if p[0] in ("Teams", "MatchInfo") or p[:2] == ("Players", at)]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(pool))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent[path[-1]], int) and not isinstance(parent[path[-1]], bool):
            parent[path[-1]] = draw(st.one_of(st.sampled_from(EDGE_INTS), st.integers(-10**6, 10**6)))
    if draw(st.booleans()):
        doc["MatchInfo"]["SeasonId"] = draw(st.text(max_size=70))
    return name, file_name, json.dumps(doc).encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def project(reference_root: Path) -> DbtProject:
    """One parse of the dbt project for every build of the fuzz test (as `halo build --all` does)."""
    return DbtProject(reference_root)


def test_every_accepted_mutated_document_builds_and_the_marts_agree_with_raw(reference_root: Path,
                                                                            project: DbtProject) -> None:
    """Each example: the real match stats samples with one of test_fuzz's mutated documents (in place of its own
    original when it is one of them; skill, history, career and film documents join those matches). Accepted, the
    player is built (the same in-process build `halo build` runs; the project parsed once) and must succeed."""
    counter = iter(range(10**6))
    built: list[str] = []

    @BUILDS
    @given(st.one_of(owner_values(), mutations()))
    def check(case: tuple[str, str, bytes]) -> None:
        name, file_name, data = case
        gamertag = f"Fuzz Build {next(counter)}"
        src = reference_root.parent / "fuzz" / gamertag.replace(" ", "_")
        src.mkdir(parents=True)
        (src / file_name).write_bytes(data)
        loaded = load_matches(gamertag, [src], xuid=OWNER_XUID, root=reference_root)
        if loaded.rejections:
            event("rejected: not built")
            return
        others = [path for path in MATCH_STATS_FILES if path.stem != name]
        assert load_matches(gamertag, others, root=reference_root).rejections == []
        event(f"accepted {name}: built")
        built.append(name)
        _, (outcome,) = build_players([gamertag], root=reference_root, project=project, full=True)
        assert outcome.success, outcome.errors
        db = player_db_path(gamertag, reference_root)
        raw = rows(db, f"SELECT match_id, {MATCH_STATS_COLUMNS} FROM raw.match_players "
                       f"WHERE xuid = {OWNER_XUID} ORDER BY match_id")
        assert len(raw) == rows(db, "SELECT count(*) FROM raw.matches")[0][0] >= len(others)
        assert rows(db, f"SELECT match_id, {MATCH_STATS_COLUMNS} FROM main.match_stats ORDER BY match_id") == raw
        archive = (db.parent / "archive").as_posix()
        assert rows(db, f"SELECT match_id, {MATCH_STATS_COLUMNS} FROM read_parquet('{archive}/*/*.parquet') "
                        "ORDER BY match_id") == raw
        # the summaries over experiences add up to the raw owner rows; every raw player row is a participant
        assert rows(db, "SELECT sum(matches), sum(kills), sum(deaths) FROM main.mv_global_stats") == [
            (len(raw), sum(r[1] for r in raw), sum(r[2] for r in raw))]
        assert rows(db, "SELECT count(*) FROM main.match_participants") == rows(
            db, "SELECT count(*) FROM raw.match_players")

    check()
    assert built, "no mutated document was accepted: the property was not tested"
