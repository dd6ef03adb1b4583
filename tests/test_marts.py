"""End to end: load the real fixtures, run `dbt build --target player`, check the marts against the raw JSON.

Expected values are computed here from the fixture JSON (plain `json`) and, for the film, from
SPNKr's film reader with a small pairing written in Python: nothing re-runs the SQL under test.
One module-scoped build serves every test (a dbt process costs seconds on a 2-core machine).
"""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest
from conftest import FILM, MATCH_STATS_FILES, OWNER_ID, OWNER_XUID, REFERENCE, RESPONSES, ROOT, read_json
from spnkr.film import highlight_events as spnkr_events

from loader.core.errors import ProjectDefinitionError
from loader.core.paths import metadata_db_path, player_db_path
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference
from loader.warehouse import data_tests, dbt_runner
from loader.warehouse.dbt_runner import DbtProject, target_dir

DBT = ROOT / ".venv" / "bin" / "dbt"
GAMERTAG = "Spartan001"
SLAYER_ID = "b4be1c44-5782-42b3-8cf8-0d76dd87230c"
ODDBALL_ID = "63391382-6b88-43f9-9ff4-6313404c419c"
SMALL_FILM_MATCH_ID = "01ee3491-1ca1-4822-b23e-63e836104f32"
INFECTION_ID = "1eff9933-121a-42be-ab15-05bda1fc8858"
FILM_38 = FILM / f"38_{ODDBALL_ID}.gzip"
REFERENCE_API_FILES = [RESPONSES / f"get_{name}.json" for name in (
    "medal_metadata", "career_reward_track", "season_calendar", "csr_season_calendar", "playlist", "map",
    "map_mode_pair", "ugc_game_variant")]


# ---------------------------------------------------------------------------------------------- helpers


def run_dbt(command: list[str], root: Path, tmp: Path, target: str,
            player_db: Path | None = None, **extra: str) -> subprocess.CompletedProcess:
    """dbt exactly as from the shell (README), with target/ and logs/ kept out of the checkout."""
    env = {**os.environ, "HALO_DATA_DIR": str(root),
           "HALO_PLAYER_DB": str(player_db or player_db_path(GAMERTAG, root)),
           "DBT_TARGET_PATH": str(tmp / "target"), "DBT_LOG_PATH": str(tmp / "logs"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **extra}
    env.pop("HALO_ARCHIVE_DIR", None)  # the profile's default: <player dir>/archive
    return subprocess.run([str(DBT), *command, "--target", target, "--profiles-dir", str(ROOT)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def dbt_in_process(project: DbtProject, command: str, *args: str, player_db: Path | None = None) -> object:
    """`dbt COMMAND --target player ARGS` in this process, on `project`'s parsed manifest (no process start, no
    parse), with the profile's variables as run_dbt sets them: for tests whose point is what dbt and DuckDB report,
    not the shell (the fixture's build is the shell's). The dbtRunnerResult; dbt-duckdb's handle is closed after."""
    from dbt.cli.main import dbtRunner

    db = player_db or player_db_path(GAMERTAG, project.root)
    with dbt_runner.environment(HALO_DATA_DIR=str(project.root), HALO_PLAYER_DB=str(db),
                                HALO_ARCHIVE_DIR=str(db.parent / "archive")):
        try:
            result = dbtRunner(manifest=project.manifest()).invoke(
                dbt_runner.dbt_args(command, "player", *args, *dbt_runner.lean_flags()))
        finally:
            dbt_runner.release_duckdb()
    assert result.exception is None, result.exception  # dbt ran (its exit code 0 or 1, not 2)
    return result


def node_results(result: object, prefix: str) -> dict[str, object]:
    """The node results of a dbtRunnerResult by node name, of the nodes whose unique id starts with `prefix`."""
    return {r.node.name: r for r in result.result.results if r.node.unique_id.startswith(prefix)}


def query(db: Path, sql: str, params: list | None = None) -> list[dict]:
    """Rows as dicts from a read-only connection that is closed again (dbt needs the file lock)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        result = con.execute(sql, params or [])
        columns = [d[0] for d in result.description]
        return [dict(zip(columns, row)) for row in result.fetchall()]
    finally:
        con.close()


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC).replace(tzinfo=None)


def owner_of(match: dict) -> dict:
    return next(p for p in match["Players"] if p["PlayerId"] == OWNER_ID)


def summed(player: dict, stat: str) -> int:
    return sum(entry["Stats"]["CoreStats"][stat] for entry in player["PlayerTeamStats"])


def experience_of(match: dict) -> str:
    """docs/definitions.md#experience, from the match's JSON: against AI (PvE interaction, PvE playlist or PvE mode),
    else a custom game (no playlist) or matchmade."""
    info = match["MatchInfo"]
    if info.get("GameplayInteraction") == 2 or info.get("PlaylistExperience") in (4, 6) \
            or info.get("GameVariantCategory") in (1, 42):
        return "pve"
    return "pvp_custom" if info.get("Playlist") is None else "pvp_matchmade"


def all_matches() -> dict[str, dict]:
    return {doc["MatchId"]: doc for doc in map(read_json, MATCH_STATS_FILES)}


def reference_names() -> dict[str, dict[str, str]]:
    """Asset id -> PublicName per asset kind, straight from the reference fixtures."""
    playlist, map_, pair, variant = (read_json(RESPONSES / f"get_{n}.json")
                                     for n in ("playlist", "map", "map_mode_pair", "ugc_game_variant"))
    names: dict[str, dict[str, str]] = {"playlist": {}, "map": {}, "map_mode_pair": {}, "game_variant": {}}
    names["playlist"][playlist["AssetId"]] = playlist["PublicName"]
    for entry in read_json(REFERENCE / "Playlist_modes_translations.json")["playlists"]:
        names["playlist"].setdefault(entry["uuid"].lower(), entry["en"])
    for asset in (map_, pair["MapLink"]):
        names["map"][asset["AssetId"]] = asset["PublicName"]
    for asset in (variant, pair["UgcGameVariantLink"]):
        names["game_variant"][asset["AssetId"]] = asset["PublicName"]
    for asset in (pair, *playlist["RotationEntries"]):
        names["map_mode_pair"][asset["AssetId"]] = asset["PublicName"]
    return names


def expected_season(info: dict) -> str:
    if info.get("SeasonId"):
        return info["SeasonId"].rsplit("/", 1)[-1].removesuffix(".json")
    start = parse_time(info["StartTime"])
    for season in read_json(RESPONSES / "get_csr_season_calendar.json")["Seasons"]:
        if parse_time(season["StartDate"]["ISO8601Date"]) <= start < parse_time(season["EndDate"]["ISO8601Date"]):
            return season["CsrSeasonFilePath"].rsplit("/", 1)[-1].removesuffix(".json")
    return "unknown"


def film_kills(path: Path, version: int, teams: dict[int, int]) -> tuple[Counter, Counter]:
    """Pair kill/death events of a film independently (5 ms, other player): (owner kills per victim, deaths per killer).

    The fixture film is unambiguous (each kill has exactly one candidate death), which the test asserts.
    """
    events = list(spnkr_events.read(path.read_bytes(), version))
    kills = [e for e in events if e.event_type == "kill"]
    deaths = [e for e in events if e.event_type == "death"]
    owner_killed, owner_killed_by = Counter(), Counter()
    used = set()
    for kill in kills:
        candidates = [i for i, d in enumerate(deaths) if d.xuid != kill.xuid and abs(d.time_ms - kill.time_ms) <= 5]
        assert len(candidates) == 1, "film 38 is expected to pair unambiguously"
        (index,) = candidates
        assert index not in used
        used.add(index)
        victim = deaths[index].xuid
        if teams[kill.xuid] == teams[victim]:
            continue  # betrayal, not an antagonist kill
        if kill.xuid == OWNER_XUID:
            owner_killed[victim] += 1
        elif victim == OWNER_XUID:
            owner_killed_by[kill.xuid] += 1
    return owner_killed, owner_killed_by


# ---------------------------------------------------------------------------------------------- the build


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("marts")
    root = tmp / "data"
    extra = tmp / "inputs"
    extra.mkdir()
    # the skill fixture carries no match id and the small film chunk no name: give them the names the loader reads
    shutil.copy(RESPONSES / "get_match_skill.json", extra / f"skill_{SLAYER_ID}.json")
    shutil.copy(FILM / "highlight_events.gzip", extra / f"37_{SMALL_FILM_MATCH_ID}.gzip")

    reference = load_reference([*REFERENCE_API_FILES, REFERENCE], root=root)
    assert reference.rejections == [], [r.reason for r in reference.rejections]
    meta = run_dbt(["build"], root, tmp, "metadata")
    assert meta.returncode == 0, meta.stdout[-4000:]

    loaded = load_matches(GAMERTAG, [*MATCH_STATS_FILES, RESPONSES / "get_match_history.json",
                                     RESPONSES / "get_player_career_rank.json", FILM_38, extra],
                          xuid=OWNER_XUID, root=root)
    assert loaded.rejections == [], [r.reason for r in loaded.rejections]

    player = run_dbt(["build"], root, tmp, "player", HALO_DBT_THREADS="1")  # threads from the environment
    assert player.returncode == 0, player.stdout[-6000:]
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    manifest = json.loads((tmp / "target" / "manifest.json").read_text())
    return {"root": root, "tmp": tmp, "db": player_db_path(GAMERTAG, root), "build_log": player.stdout,
            "results": {r["unique_id"]: r["status"] for r in results}, "unit_tests": set(manifest["unit_tests"])}


@pytest.fixture(scope="module")
def project(built: dict) -> DbtProject:
    """The project parsed once in this process, for the tests that run dbt in-process (dbt_in_process)."""
    project = DbtProject(built["root"])
    project.manifest()
    return project


# ---------------------------------------------------------------------------------------------- dbt build itself


def test_dbt_build_from_the_shell_runs_every_unit_and_data_test(built: dict) -> None:
    """`halo build` leaves the unit tests (fixed fixtures, not the player's data) to `dbt build`/`dbt test` from the
    shell (README, Building): this build ran each of them, and each data test, and all passed."""
    assert "Concurrency: 1 threads (target='player')" in built["build_log"]  # HALO_DBT_THREADS (README)
    units = {uid: status for uid, status in built["results"].items() if uid.startswith("unit_test.")}
    assert built["unit_tests"] and set(units) == built["unit_tests"]
    assert set(units.values()) == {"pass"}
    tests = {uid: status for uid, status in built["results"].items() if uid.startswith("test.")}
    assert tests and set(tests.values()) == {"pass"}


# ---------------------------------------------------------------------------------------------- match_stats


def test_match_stats_has_the_owner_row_of_every_match(built: dict) -> None:
    rows = {r["match_id"]: r for r in query(built["db"], "SELECT * FROM match_stats")}
    matches = all_matches()
    assert set(rows) == set(matches)
    names = reference_names()
    skill = read_json(RESPONSES / "get_match_skill.json")["Value"][0]["Result"]

    for match_id, match in matches.items():
        row, owner, info = rows[match_id], owner_of(match), match["MatchInfo"]
        kills, deaths = summed(owner, "Kills"), summed(owner, "Deaths")
        assert (row["kills"], row["deaths"], row["assists"]) == (kills, deaths, summed(owner, "Assists")), match_id
        assert len(owner["PlayerTeamStats"]) == 1  # the fixtures: API KDA/accuracy apply as they are
        core = owner["PlayerTeamStats"][0]["Stats"]["CoreStats"]
        assert row["kda"] == pytest.approx(core["KDA"]) and row["accuracy"] == pytest.approx(core["Accuracy"])
        assert row["kd_ratio"] == pytest.approx(kills / deaths if deaths else kills)
        assert row["outcome"] == owner["Outcome"] and row["team_id"] == owner["LastTeamId"]
        assert row["start_time"] == parse_time(info["StartTime"])
        assert row["season"] == expected_season(info)

        scores = {t["TeamId"]: t["Stats"]["CoreStats"]["Score"] for t in match["Teams"]}
        if scores:
            assert row["my_team_score"] == scores[owner["LastTeamId"]]
            assert row["enemy_team_score"] == max(s for t, s in scores.items() if t != owner["LastTeamId"])
        else:
            assert row["my_team_score"] is None and row["enemy_team_score"] is None

        for kind, info_key in (("playlist", "Playlist"), ("map", "MapVariant"), ("game_variant", "UgcGameVariant"),
                               ("map_mode_pair", "PlaylistMapModePair")):
            asset = info.get(info_key)
            assert row[f"{kind}_asset_id"] == (asset["AssetId"] if asset else None)
            assert row[f"{kind}_name"] == (names[kind].get(asset["AssetId"]) if asset else None), (match_id, kind)
        assert row["is_matchmade"] is (info.get("Playlist") is not None)
        if match_id == SLAYER_ID:
            assert row["team_mmr"] == pytest.approx(skill["TeamMmr"])
            assert row["enemy_mmr"] == pytest.approx(
                max(v for k, v in skill["TeamMmrs"].items() if int(k) != skill["TeamId"]))
            assert row["expected_kills"] == pytest.approx(skill["StatPerformances"]["Kills"]["Expected"])
            assert row["pre_match_csr"] == skill["RankRecap"]["PreMatchCsr"]["Value"]
            assert row["post_match_csr"] == skill["RankRecap"]["PostMatchCsr"]["Value"]
        else:
            assert row["team_mmr"] is None and row["pre_match_csr"] is None
        participation = owner["ParticipationInfo"]
        assert row["left_early"] is (participation["LeftInProgress"] or not participation["PresentAtCompletion"])
        assert row["performance_score"] is None  # fewer than 10 earlier matches

    # the slayer match is on the Ranked Arena playlist, which the metadata knows as ranked
    assert rows[SLAYER_ID]["playlist_name"] == "Ranked Arena" and rows[SLAYER_ID]["is_ranked"] is True
    assert rows[SMALL_FILM_MATCH_ID]["is_ranked"] is False  # custom game: no playlist
    assert rows[INFECTION_ID]["my_team_score"] is None  # Infection: Teams is empty


def test_sessions_follow_the_120_minute_gap(built: dict) -> None:
    times = sorted((parse_time(m["MatchInfo"]["StartTime"]), parse_time(m["MatchInfo"]["EndTime"]), match_id)
                   for match_id, m in all_matches().items())
    expected, previous_end, current = {}, None, None
    for start, end, match_id in times:
        if previous_end is None or start - previous_end > dt.timedelta(minutes=120):
            current = match_id
        expected[match_id] = current
        previous_end = end
    rows = query(built["db"], "SELECT match_id, session_id FROM match_stats")
    assert {r["match_id"]: r["session_id"] for r in rows} == expected
    sessions = query(built["db"], "SELECT session_id, experience, matches FROM sessions")
    matches = all_matches()
    assert {(s["session_id"], s["experience"]): s["matches"] for s in sessions} == \
        Counter((session, experience_of(matches[match_id])) for match_id, session in expected.items())


# ---------------------------------------------------------------------------------------------- other marts


def test_match_participants_has_every_player(built: dict) -> None:
    rows = query(built["db"], "SELECT match_id, count(*) AS n, sum(is_owner::int) AS owners FROM match_participants "
                              "GROUP BY match_id")
    assert {r["match_id"]: r["n"] for r in rows} == {k: len(m["Players"]) for k, m in all_matches().items()}
    assert all(r["owners"] == 1 for r in rows)
    owner = query(built["db"], "SELECT DISTINCT gamertag FROM match_participants WHERE is_owner")
    assert owner == [{"gamertag": GAMERTAG}]


def test_medals_earned_for_the_slayer_match(built: dict) -> None:
    metadata = read_json(RESPONSES / "get_medal_metadata.json")
    definitions = {m["nameId"]: m for m in metadata["medals"]}
    owner = owner_of(read_json(RESPONSES / "get_match_stats.json"))
    expected = {}
    for entry in owner["PlayerTeamStats"]:
        for medal in entry["Stats"]["CoreStats"]["Medals"]:
            definition = definitions.get(medal["NameId"])
            expected[medal["NameId"]] = (
                medal["Count"], medal["TotalPersonalScoreAwarded"],
                definition["name"]["value"] if definition else None,
                definition["name"]["translations"]["fr-FR"] if definition else None,
                metadata["difficulties"][definition["difficultyIndex"]] if definition else None,
                metadata["types"][definition["typeIndex"]] if definition else None)
    rows = query(built["db"], "SELECT * FROM medals_earned WHERE match_id = ?", [SLAYER_ID])
    actual = {r["medal_id"]: (r["count"], r["personal_score"], r["name_en"], r["name_fr"], r["difficulty"], r["type"])
              for r in rows}
    assert actual == expected
    assert len(rows) == len(expected)


def test_antagonists_from_film_38(built: dict) -> None:
    oddball = read_json(RESPONSES / "get_match_stats_oddball.json")
    teams = {int(p["PlayerId"][5:-1]): p["LastTeamId"] for p in oddball["Players"] if p["PlayerId"].startswith("xuid(")}
    owner_killed, owner_killed_by = film_kills(FILM_38, 38, teams)
    assert sum(owner_killed.values()) > 0 and sum(owner_killed_by.values()) > 0

    # matches against each human, over every loaded match, per experience
    against: Counter = Counter()
    for match in all_matches().values():
        owner_team = owner_of(match)["LastTeamId"]
        for player in match["Players"]:
            if player["PlayerId"].startswith("xuid(") and player["PlayerId"] != OWNER_ID \
                    and player["LastTeamId"] != owner_team:
                against[(int(player["PlayerId"][5:-1]), experience_of(match))] += 1

    film_experience = experience_of(oddball)
    rows = {(r["opponent_xuid"], r["experience"]): r for r in query(built["db"], "SELECT * FROM antagonists")}
    assert set(rows) == set(against)
    for (xuid, experience), row in rows.items():
        film = experience == film_experience
        assert row["times_killed"] == (owner_killed.get(xuid, 0) if film else 0), xuid
        assert row["times_killed_by"] == (owner_killed_by.get(xuid, 0) if film else 0), xuid
        assert row["net_kills"] == row["times_killed"] - row["times_killed_by"]
        assert row["matches_against"] == against[(xuid, experience)]
    assert sum(r["times_killed"] for r in rows.values()) == sum(owner_killed.values())
    assert sum(r["times_killed_by"] for r in rows.values()) == sum(owner_killed_by.values())
    # gamertags come from the film
    film_names = {e.xuid: e.gamertag for e in spnkr_events.read(FILM_38.read_bytes(), 38)}
    for (xuid, _), row in rows.items():
        if xuid in film_names:
            assert row["gamertag"] == film_names[xuid]


def test_film_medal_events_carry_the_medal_name_id(built: dict) -> None:
    """A film's medal event carries SPNKr's film code (0-146); highlight_events.medal_id is the medal's NameId: the
    one the medal metadata gives the medal SPNKr names for that code. Every medal event of film 38 joins
    medal_definitions."""
    names = {m["name"]["value"]: m["nameId"] for m in read_json(RESPONSES / "get_medal_metadata.json")["medals"]}
    medals = [e for e in spnkr_events.read(FILM_38.read_bytes(), 38) if e.event_type == "medal"]
    assert len(medals) == 85  # and one in the small film: 86 medal events in the samples
    expected = Counter((e.medal_value, names[e.medal_name]) for e in medals)
    rows = query(built["db"], "SELECT film_medal_code, medal_id, count(*) AS n FROM highlight_events "
                              "WHERE match_id = ? AND event_type = 'medal' GROUP BY ALL", [ODDBALL_ID])
    assert {(r["film_medal_code"], r["medal_id"]): r["n"] for r in rows} == expected
    defined = {r["medal_id"] for r in query(metadata_db_path(built["root"]), "SELECT medal_id FROM medal_definitions")}
    events = query(built["db"], "SELECT medal_id FROM highlight_events WHERE match_id = ? AND event_type = 'medal'",
                   [ODDBALL_ID])
    assert len(events) == len(medals) and all(e["medal_id"] in defined for e in events)


def test_a_medal_only_the_name_files_know_gets_their_names(built: dict) -> None:
    """NameId 2125906504 is not in the medal metadata; medals_en.json / medals_fr.json name it."""
    medal_id = 2125906504
    metadata = read_json(RESPONSES / "get_medal_metadata.json")
    assert medal_id not in {m["nameId"] for m in metadata["medals"]}
    english = read_json(REFERENCE / "medals_en.json")[str(medal_id)]
    french = read_json(REFERENCE / "medals_fr.json")[str(medal_id)]
    assert (english, french) == ("Big Deal", "Gros lot")
    rows = query(metadata_db_path(built["root"]), "SELECT name_en, name_fr, difficulty, type FROM medal_definitions "
                                                  "WHERE medal_id = ?", [medal_id])
    assert rows == [{"name_en": english, "name_fr": french, "difficulty": None, "type": None}]


def test_kill_pairing_counts_unpaired_events(built: dict) -> None:
    rows = query(built["db"], "SELECT match_id, pairing_status, count(*) AS n FROM int_kill_events_paired "
                              "GROUP BY ALL")
    counts = {(r["match_id"], r["pairing_status"]): r["n"] for r in rows}
    events = list(spnkr_events.read(FILM_38.read_bytes(), 38))
    assert counts[(ODDBALL_ID, "paired")] == sum(e.event_type == "kill" for e in events) == 203
    assert (ODDBALL_ID, "unpaired_kill") not in counts
    # the small film: the owner killed a bot twice and died once; bots have no film events, nothing pairs
    small = list(spnkr_events.read((FILM / "highlight_events.gzip").read_bytes(), 37))
    assert counts[(SMALL_FILM_MATCH_ID, "unpaired_kill")] == sum(e.event_type == "kill" for e in small)
    assert counts[(SMALL_FILM_MATCH_ID, "unpaired_death")] == sum(e.event_type == "death" for e in small)


def test_teammates_aggregate_over_all_matches(built: dict) -> None:
    expected: dict[tuple[int, str], Counter] = defaultdict(Counter)
    for match in all_matches().values():
        owner = owner_of(match)
        for player in match["Players"]:
            if not player["PlayerId"].startswith("xuid(") or player["PlayerId"] == OWNER_ID:
                continue
            counts = expected[(int(player["PlayerId"][5:-1]), experience_of(match))]
            if player["LastTeamId"] == owner["LastTeamId"]:
                counts["together"] += 1
                counts["wins"] += owner["Outcome"] == 2
                counts["losses"] += owner["Outcome"] == 3
            else:
                counts["against"] += 1
    rows = {(r["teammate_xuid"], r["experience"]): r for r in query(built["db"], "SELECT * FROM teammates_aggregate")}
    assert set(rows) == set(expected)
    for xuid, counts in expected.items():
        row = rows[xuid]
        assert (row["matches_together"], row["matches_against"], row["wins_together"], row["losses_together"]) == \
            (counts["together"], counts["against"], counts["wins"], counts["losses"]), xuid
        assert row["win_rate_together"] == (counts["wins"] / counts["together"] if counts["together"] else None)


def test_career_progression(built: dict) -> None:
    snapshot = read_json(RESPONSES / "get_player_career_rank.json")["CurrentProgress"]
    track = read_json(RESPONSES / "get_career_reward_track.json")["Ranks"]
    rank = next(r for r in track if r["Rank"] == snapshot["Rank"])
    xp_before = sum(r["XpRequiredForRank"] for r in track if r["Rank"] < snapshot["Rank"])
    rows = query(built["db"], "SELECT * FROM career_progression")
    assert len(rows) == 1
    row = rows[0]
    assert (row["rank"], row["xp_in_rank"], row["title"]) == \
        (snapshot["Rank"], snapshot["PartialProgress"], rank["RankTitle"]["value"])
    assert row["cumulative_xp"] == xp_before + snapshot["PartialProgress"]
    assert row["is_max_rank"] is False
    assert row["tier"] == rank["TierType"]  # the tier's name (Bronze ... Onyx), not the grade numeral


def test_global_stats(built: dict) -> None:
    matches = all_matches()
    rows = query(built["db"], "SELECT * FROM mv_global_stats")
    assert {r["owner_xuid"] for r in rows} == {OWNER_XUID}
    assert sum(r["matches"] for r in rows) == len(matches)
    assert sum(r["kills"] for r in rows) == sum(summed(owner_of(m), "Kills") for m in matches.values())
    assert sum(r["wins"] for r in rows) == sum(owner_of(m)["Outcome"] == 2 for m in matches.values())
    per_map = query(built["db"], "SELECT map_asset_id, experience, matches FROM mv_map_stats")
    assert {(r["map_asset_id"], r["experience"]): r["matches"] for r in per_map} == \
        Counter((m["MatchInfo"]["MapVariant"]["AssetId"], experience_of(m)) for m in matches.values())


def test_every_aggregate_is_split_by_experience(built: dict) -> None:
    """K/D per experience from the JSON: PvP matchmade 102/59, the Firefight match against AI (87/2) in a PvE row
    of its own and the custom game (2/1) in its own; no row of any aggregate mixes two experiences."""
    totals: dict[str, Counter] = defaultdict(Counter)
    for match in all_matches().values():
        owner = owner_of(match)
        totals[experience_of(match)].update(kills=summed(owner, "Kills"), deaths=summed(owner, "Deaths"), matches=1)
    assert {e: (t["kills"], t["deaths"]) for e, t in totals.items()} == {
        "pvp_matchmade": (102, 59), "pve": (87, 2), "pvp_custom": (2, 1)}
    rows = {r["experience"]: r for r in query(built["db"], "SELECT * FROM mv_global_stats")}
    assert set(rows) == set(totals)
    for experience, t in totals.items():
        row = rows[experience]
        assert (row["matches"], row["kills"], row["deaths"]) == (t["matches"], t["kills"], t["deaths"])
        assert row["kd_ratio"] == pytest.approx(t["kills"] / t["deaths"])
    assert rows["pvp_matchmade"]["kd_ratio"] == pytest.approx(1.73, abs=0.005)
    stats = {r["match_id"]: r["experience"] for r in query(built["db"], "SELECT match_id, experience FROM match_stats")}
    assert stats == {match_id: experience_of(m) for match_id, m in all_matches().items()}
    for mart in ("sessions", "mv_map_stats", "mv_mode_stats", "mv_session_stats"):
        by_experience = {r["experience"]: r["matches"] for r in query(
            built["db"], f"SELECT experience, sum(matches) AS matches FROM {mart} GROUP BY 1")}
        assert by_experience == {e: t["matches"] for e, t in totals.items()}, mart


def test_outcome_and_csr_tier_names(built: dict) -> None:
    names = {1: "tie", 2: "win", 3: "loss", 4: "did_not_finish"}
    rows = {r["match_id"]: r for r in query(built["db"], "SELECT * FROM match_stats")}
    for match_id, match in all_matches().items():
        assert rows[match_id]["outcome_name"] == names[owner_of(match)["Outcome"]], match_id
    recap = read_json(RESPONSES / "get_match_skill.json")["Value"][0]["Result"]["RankRecap"]
    for when in ("Pre", "Post"):
        csr = recap[f"{when}MatchCsr"]
        sub = csr["Tier"] if csr["Tier"] == "Onyx" else f"{csr['Tier']} {csr['SubTier'] + 1}"
        row = rows[SLAYER_ID]
        assert row[f"{when.lower()}_match_csr_tier"] == csr["Tier"] == "Onyx"
        assert row[f"{when.lower()}_match_csr_sub_tier_name"] == sub
    assert all(r["pre_match_csr_tier"] is None for k, r in rows.items() if k != SLAYER_ID)
    # the session's CSR change is that of its one ranked playlist
    (session,) = query(built["db"], "SELECT * FROM sessions WHERE csr_change IS NOT NULL")
    assert session["csr_change"] == recap["PostMatchCsr"]["Value"] - recap["PreMatchCsr"]["Value"]
    assert session["csr_playlist_asset_id"] == rows[SLAYER_ID]["playlist_asset_id"]


# ---------------------------------------------------------------------------------------------- archive, re-runs


def test_season_archive_parquet(built: dict) -> None:
    archive = built["db"].parent / "archive"
    seasons = {r["season"]: r["n"]
               for r in query(built["db"], "SELECT season, count(*) AS n FROM match_stats GROUP BY 1")}
    assert {p.name for p in archive.iterdir()} == {f"season={s}" for s in seasons}
    con = duckdb.connect()
    try:
        for season, n in seasons.items():
            files = list((archive / f"season={season}").glob("*.parquet"))
            assert files, season
            pattern = str(archive / f"season={season}" / "*.parquet")
            assert con.execute(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchall() == [(n,)]
        total = con.execute(f"SELECT count(*) FROM read_parquet('{archive}/*/*.parquet', hive_partitioning=true)")
        assert total.fetchall() == [(sum(seasons.values()),)]
        types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                                 f"read_parquet('{archive}/*/*.parquet'))").fetchall())
        assert types["kills"] == "BIGINT" and types["kda"] == "FLOAT"  # BIGINT holds every accepted count
        codecs = {r[0] for r in con.execute(f"SELECT DISTINCT compression FROM "
                                            f"parquet_metadata('{archive}/*/*.parquet')").fetchall()}
        assert codecs == {"ZSTD"}
    finally:
        con.close()


def test_docs_generate(built: dict) -> None:
    run = run_dbt(["docs", "generate"], built["root"], built["tmp"], "player")
    assert run.returncode == 0, run.stdout[-4000:]
    assert (built["tmp"] / "target" / "catalog.json").exists()


def test_incremental_rebuild_replaces_a_match_and_leaves_the_rest(built: dict, project: DbtProject) -> None:
    """Runs last: a second build after a newer copy of the slayer match (one player fewer, one kill more)."""
    db = built["db"]
    con = duckdb.connect(str(db))
    try:
        # marks on rows an incremental build must not touch (older matches) or must rewrite (a later match)
        con.execute("UPDATE match_stats SET map_name = 'untouched' WHERE match_id = ?", [INFECTION_ID])
        con.execute("UPDATE match_stats SET map_name = 'stale' WHERE match_id = ?", [ODDBALL_ID])
        con.execute("UPDATE match_participants SET gamertag = 'untouched' WHERE match_id = ?", [INFECTION_ID])
    finally:
        con.close()

    match = read_json(RESPONSES / "get_match_stats.json")
    dropped = next(p for p in match["Players"] if p["PlayerId"] != OWNER_ID)
    match["Players"].remove(dropped)
    owner_of(match)["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Kills"] += 1
    newer = built["tmp"] / "replaced" / "get_match_stats.json"
    newer.parent.mkdir()
    newer.write_text(json.dumps(match), encoding="utf-8")
    loaded = load_matches(GAMERTAG, [newer], root=built["root"])
    assert loaded.counts.replaced == 1
    # the same update on a copy, through the paths of a large backfill (match ids as a subquery, not literals;
    # performance scores from the windows over the whole history, not the join with the stored matches)
    backfill_db = built["tmp"] / "backfill" / "stats.duckdb"
    backfill_db.parent.mkdir()
    shutil.copy(db, backfill_db)

    # the season archive: the replaced match's season file is rewritten, the PvE match's season (another one, and no
    # match of it changed) is not touched (halo_write_changed_partitions)
    def season_folder(document: dict) -> str:
        return "season=" + document["MatchInfo"]["SeasonId"].rsplit("/", 1)[-1].removesuffix(".json")

    replaced_season, pve_season = season_folder(match), season_folder(read_json(RESPONSES / "get_match_stats_pve.json"))
    assert replaced_season != pve_season
    archive = db.parent / "archive"
    before = {folder: (archive / folder / "match_stats_0.parquet").stat().st_mtime_ns
              for folder in (replaced_season, pve_season)}

    run = run_dbt(["build"], built["root"], built["tmp"], "player")
    assert run.returncode == 0, run.stdout[-6000:]
    assert (archive / pve_season / "match_stats_0.parquet").stat().st_mtime_ns == before[pve_season]
    assert (archive / replaced_season / "match_stats_0.parquet").stat().st_mtime_ns != before[replaced_season]
    assert query(db, f"SELECT kills FROM read_parquet('{archive / replaced_season}/*.parquet') WHERE match_id = ?",
                 [SLAYER_ID]) == [{"kills": summed(owner_of(match), "Kills")}]

    stats = {r["match_id"]: r for r in query(db, "SELECT * FROM match_stats")}
    assert len(stats) == len(MATCH_STATS_FILES)
    assert stats[SLAYER_ID]["kills"] == summed(owner_of(match), "Kills")
    assert stats[INFECTION_ID]["map_name"] == "untouched"  # older match: not rewritten
    assert stats[ODDBALL_ID]["map_name"] != "stale"  # started after the replaced match: rewritten
    participants = query(db, "SELECT player_id, gamertag FROM match_participants WHERE match_id = ?", [SLAYER_ID])
    assert len(participants) == len(match["Players"])
    assert dropped["PlayerId"] not in {p["player_id"] for p in participants}  # no stale row
    untouched = query(db, "SELECT DISTINCT gamertag FROM match_participants WHERE match_id = ?", [INFECTION_ID])
    assert untouched == [{"gamertag": "untouched"}]
    # in-process (the shell's incremental build is the one above): another player file is a parse of its own for
    # a dbt process, the parsed project here
    backfill = dbt_in_process(project, "run", "--select", "match_stats", "--vars",
                              "{inline_match_ids_limit: 0, performance_score_join_limit: 0}", "--target-path",
                              str(built["tmp"] / "backfill" / "target"), player_db=backfill_db)
    assert backfill.success, [(r.node.name, r.message) for r in backfill.result.results]
    compiled = Path("compiled", "halo", "models", "marts", "match_stats.sql")
    update_sql = (built["tmp"] / "target" / compiled).read_text()
    backfill_sql = (built["tmp"] / "backfill" / "target" / compiled).read_text()
    reads_scored = re.compile(r"from \S*int_owner_matches_scored")  # a read, not match_stats' depends_on comment
    assert f"'{ODDBALL_ID}'" in update_sql and not reads_scored.search(update_sql)
    assert f"'{ODDBALL_ID}'" not in backfill_sql and reads_scored.search(backfill_sql)
    ordered = "SELECT * FROM match_stats ORDER BY match_id"
    assert query(backfill_db, ordered) == query(db, ordered)
    # the archive still holds one row per match
    con = duckdb.connect()
    try:
        assert con.execute(f"SELECT count(*) FROM read_parquet('{archive}/*/*.parquet')").fetchall() == \
            [(len(stats),)]
    finally:
        con.close()
    assert metadata_db_path(built["root"]).exists()


def constraints_of(db: Path, table: str) -> tuple[set[str], list[set[str]]]:
    """DuckDB's catalog: the columns of `table` with a NOT NULL constraint, and its primary keys' column sets."""
    rows = query(db, "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() "
                     "WHERE schema_name = 'main' AND table_name = ?", [table])
    not_null = {c for r in rows if r["constraint_type"] == "NOT NULL" for c in r["constraint_column_names"]}
    keys = [set(r["constraint_column_names"]) for r in rows if r["constraint_type"] == "PRIMARY KEY"]
    return not_null, keys


def test_halo_build_leaves_out_the_tests_the_constraints_decide(built: dict, project: DbtProject) -> None:
    """A full `halo build` leaves out the not_null/unique/unique_key tests whose rule DuckDB's constraints enforce on
    the table that build creates (README, Building), and runs every other data test. match_stats' by hand from
    models/marts/_marts__models.yml: its key (owner_xuid, match_id) and its not-null columns; its accepted_values
    and relationships tests stay, and no test of a view is left out. A table left without its constraints (copied,
    as after a failed build of an older version) is created again with them: a full halo build is always
    --full-refresh. After the build, every test left out names a constraint in DuckDB's catalog, and DuckDB refuses
    a row breaking one."""
    db = built["db"]
    con = duckdb.connect(str(db))
    try:
        con.execute("CREATE TABLE match_stats_copy AS SELECT * FROM match_stats")
        con.execute("DROP TABLE match_stats")
        con.execute("ALTER TABLE match_stats_copy RENAME TO match_stats")
    finally:
        con.close()
    assert constraints_of(db, "match_stats") == (set(), [])
    project.artifacts_dir = built["tmp"] / "halo-target"
    decided = set(project.decided_tests())
    nodes = project.manifest().nodes
    # dbt keeps the tests of the seeds (built on the metadata target only) in the player parse, disabled
    tests = {node.name: node for node in nodes.values() if node.resource_type == "test" and node.config.enabled}
    model_of = {name: nodes[node.attached_node] for name, node in tests.items()}
    assert {name for name in decided if model_of[name].name == "match_stats"} == {
        *(f"not_null_match_stats_{column}" for column in ("owner_xuid", "match_id", "start_time", "season",
                                                          "experience", "is_matchmade", "kills", "deaths",
                                                          "session_id")),
        "unique_key_match_stats_owner_xuid__match_id"}
    # of the views, only the key tests of the two owner views that match_stats' full build writes into its primary
    # key (their yml states why: meta halo_decided_on_full_build_by), by hand
    assert {name for name in decided if model_of[name].config.materialized == "halo_view"} == {
        f"{test}_{view}_{column}" for view in ("int_owner_matches_enriched", "int_owner_matches_scored")
        for test, column in (("not_null", "owner_xuid"), ("not_null", "match_id"),
                             ("unique_key", "owner_xuid__match_id"))}
    decider = {name: nodes[tests[name].attached_node].name if model_of[name].config.materialized != "halo_view"
               else tests[name].config.meta["halo_decided_on_full_build_by"] for name in decided}
    assert {decider[name] for name in decided if model_of[name].config.materialized == "halo_view"} == \
        {"match_stats"}
    # a declaration that does not hold (tracked_players does not read the view) is an error naming the test
    view_test = tests["not_null_int_owner_matches_enriched_match_id"]
    view_test.config.meta["halo_decided_on_full_build_by"] = "tracked_players"
    try:
        with pytest.raises(ProjectDefinitionError, match="not_null_int_owner_matches_enriched_match_id .*models/"):
            dbt_runner.tests_decided_by_constraints(project.manifest())
    finally:
        view_test.config.meta["halo_decided_on_full_build_by"] = "match_stats"

    outcome = project.build_player(GAMERTAG, db)
    assert outcome.success and outcome.mode == "full", outcome.errors
    results = json.loads((target_dir() / "run_results.json").read_text())["results"]
    ran = {r["unique_id"].split(".")[2]: r["status"] for r in results if r["unique_id"].startswith("test.")}
    expected = {name for name, node in tests.items() if "reference_data" not in node.tags} - decided
    assert set(ran) == expected and set(ran.values()) == {"pass"} and outcome.tests_passed == len(expected)

    for name in sorted(decided):
        node, table = tests[name], decider[name]
        not_null, keys = constraints_of(db, table)
        if node.test_metadata.name == "not_null":
            assert node.column_name in not_null, name
        elif node.test_metadata.name == "unique":
            assert {node.column_name} in keys, name
        else:
            assert any(key <= set(node.test_metadata.kwargs["columns"]) for key in keys), name
    con = duckdb.connect(str(db))
    try:
        for breaking, message in (("kills", "NOT NULL constraint failed: match_stats.kills"),
                                  ("session_id", "NOT NULL constraint failed: match_stats.session_id"),
                                  (None, "violates primary key constraint")):
            columns = f"* REPLACE (NULL AS {breaking}, 'new-' || match_id AS match_id)" if breaking else "*"
            with pytest.raises(duckdb.ConstraintException, match=message):
                con.execute(f"INSERT INTO match_stats SELECT {columns} FROM match_stats WHERE match_id = ?",
                            [SLAYER_ID])
    finally:
        con.close()


def test_a_full_build_counts_its_tests_in_one_query_and_hands_those_finding_rows_to_dbt(built: dict) -> None:
    """A full `halo build` runs its data tests in dbt once, keeping their compiled SQL; the next full builds count
    every test's rows in one DuckDB query after the models (loader/warehouse/data_tests.py, README Building). With
    the raw layer broken on purpose (one match without a start time, one other player's outcome code 9), exactly
    the two tests that find a row go back to dbt, which fails the first (1 row: the match nulled here) and warns on
    the second (1 row: the player changed here); match_stats refuses the null start time (its not-null
    constraint), so the tests of the models downstream of it are skipped, as dbt skips them. Repaired, the next
    build's tests all pass in the query."""
    db, root = built["db"], built["root"]
    project = DbtProject(root)
    project.artifacts_dir = built["tmp"] / "halo-target"
    nodes = project.manifest().nodes
    expected = {node.name for node in nodes.values() if node.resource_type == "test" and node.config.enabled
                and "reference_data" not in node.tags} - set(project.decided_tests())

    def ran() -> dict[str, tuple[str, str, int | None]]:
        results = json.loads((target_dir() / "run_results.json").read_text())["results"]
        return {r["unique_id"].split(".")[2]: (r["status"], r["thread_id"], r["failures"]) for r in results
                if r["unique_id"].startswith("test.")}

    kept = project.compiled_tests(db).path
    kept.unlink(missing_ok=True)
    first = project.build_player(GAMERTAG, db, full=True)
    assert first.success and first.tests_passed == len(expected), first.errors
    assert {name for name, (status, thread, _) in ran().items() if thread != data_tests.BATCH_THREAD} == expected
    assert {uid.split(".")[2] for uid in json.loads(kept.read_text())} == expected

    con = duckdb.connect(str(db))
    try:
        (start,) = con.execute("SELECT start_time FROM raw.matches WHERE match_id = ?", [SLAYER_ID]).fetchone()
        (player,) = con.execute("SELECT min(player_id) FROM raw.match_players WHERE match_id = ? AND player_id <> ?",
                                [ODDBALL_ID, OWNER_ID]).fetchone()
        (code,) = con.execute("SELECT outcome FROM raw.match_players WHERE match_id = ? AND player_id = ?",
                              [ODDBALL_ID, player]).fetchone()
        con.execute("UPDATE raw.matches SET start_time = NULL WHERE match_id = ?", [SLAYER_ID])
        con.execute("UPDATE raw.match_players SET outcome = 9 WHERE match_id = ? AND player_id = ?",
                    [ODDBALL_ID, player])
    finally:
        con.close()
    try:
        broken = project.build_player(GAMERTAG, db, full=True)
        after = ran()
    finally:
        con = duckdb.connect(str(db))
        try:
            con.execute("UPDATE raw.matches SET start_time = ? WHERE match_id = ?", [start, SLAYER_ID])
            con.execute("UPDATE raw.match_players SET outcome = ? WHERE match_id = ? AND player_id = ?",
                        [code, ODDBALL_ID, player])
        finally:
            con.close()
    assert not broken.success and broken.tests_failed == 1 and broken.tests_warned == 1
    (participants_outcome,) = (name for name in expected
                               if name.startswith("accepted_values_match_participants_outcome_"))
    handed_back = {name: value for name, value in after.items() if value[1] != data_tests.BATCH_THREAD}
    assert {name: (status, failures) for name, (status, _, failures) in handed_back.items()} == {
        "not_null_stg_halo__matches_start_time": ("fail", 1), participants_outcome: ("warn", 1)}
    assert "not_null_stg_halo__matches_start_time: Got 1 result, configured to fail if != 0" in broken.errors
    assert any("NOT NULL constraint failed: match_stats.start_time" in error for error in broken.errors)
    skipped = {name for name, (status, _, _) in after.items() if status == "skipped"}
    assert {"relationships_match_stats_session_id__session_id__ref_sessions_",
            "relationships_medals_earned_match_id__match_id__ref_match_stats_"} <= skipped
    assert after["unique_stg_halo__matches_match_id"] == ("pass", data_tests.BATCH_THREAD, 0)
    assert set(after) == expected

    # repaired, the next full build counts every test in the query again, and all pass
    rebuilt = project.build_player(GAMERTAG, db, full=True)
    assert rebuilt.success and rebuilt.tests_passed == len(expected), rebuilt.errors
    assert ran() == dict.fromkeys(expected, ("pass", data_tests.BATCH_THREAD, 0))


def test_an_update_leaves_a_snapshot_table_as_it_is_while_its_raw_tables_are_unchanged(
        built: dict, project: DbtProject) -> None:
    """The four models whose config says halo_update_only_when_sources_change (the yml, by hand below) are left out
    of an update while the raw tables they read hold what they held at the last build (README, Building); a changed
    career-rank row brings career_progression back, with the changed value (the fixture's PartialProgress + 7)."""
    db = built["db"]
    snapshot = read_json(RESPONSES / "get_player_career_rank.json")["CurrentProgress"]
    assert project.update_when_changed() == {
        "career_progression": ["raw.career_rank_snapshots", "raw.owner"],
        "csr_snapshots": ["raw.owner", "raw.playlist_csr_snapshots"],
        "service_record": ["raw.owner", "raw.service_record_snapshots"],
        "tracked_players": ["raw.owner"]}

    def models_run() -> set[str]:
        results = json.loads((target_dir() / "run_results.json").read_text())["results"]
        return {r["unique_id"].split(".")[2] for r in results if r["unique_id"].startswith("model.")}

    full = project.build_player(GAMERTAG, db, full=True)
    assert full.success and (db.parent / dbt_runner.INPUTS_STATE_NAME).exists(), full.errors
    update = project.build_player(GAMERTAG, db)
    assert update.success and update.mode == "update", update.errors
    ran = models_run()
    assert "match_stats" in ran and ran.isdisjoint(project.update_when_changed()), ran

    con = duckdb.connect(str(db))
    try:
        con.execute("UPDATE raw.career_rank_snapshots SET partial_progress = partial_progress + 7")
    finally:
        con.close()
    try:
        changed = project.build_player(GAMERTAG, db)
        assert changed.success and changed.mode == "update", changed.errors
        ran = models_run()
        assert "career_progression" in ran and ran.isdisjoint({"tracked_players", "csr_snapshots", "service_record"})
        (row,) = query(db, "SELECT xp_in_rank FROM career_progression")
        assert row["xp_in_rank"] == snapshot["PartialProgress"] + 7
    finally:
        con = duckdb.connect(str(db))
        try:
            con.execute("UPDATE raw.career_rank_snapshots SET partial_progress = partial_progress - 7")
        finally:
            con.close()
    restored = project.build_player(GAMERTAG, db)
    assert restored.success and "career_progression" in models_run()
    (row,) = query(db, "SELECT xp_in_rank FROM career_progression")
    assert row["xp_in_rank"] == snapshot["PartialProgress"]


def test_a_broken_owner_view_key_fails_match_stats_full_build(built: dict, project: DbtProject) -> None:
    """Why a full `halo build` may leave out the key tests of int_owner_matches_enriched (and of
    int_owner_matches_scored, the same rows' scores): match_stats' full build writes every enriched row into its
    primary key. With the view broken on purpose (one match twice, then one match with a null owner), the view's own
    tests fail (`dbt test`), and match_stats' full build fails too, on DuckDB's constraint, keeping its rows: the
    build fails either way. dbt in-process (dbt_in_process): the same dbt commands without a process each."""
    db = built["db"]
    before = query(db, "SELECT count(*) AS n FROM match_stats")
    for extra, failing, message in (
            ("*", "unique_key_int_owner_matches_enriched_owner_xuid__match_id",
             "PRIMARY KEY or UNIQUE constraint violation: duplicate key"),
            ("* REPLACE (NULL AS owner_xuid)", "not_null_int_owner_matches_enriched_owner_xuid",
             "NOT NULL constraint failed: match_stats.owner_xuid")):
        con = duckdb.connect(str(db))
        try:
            con.execute(f"ATTACH '{metadata_db_path(built['root'])}' AS meta (READ_ONLY)")  # the view's names
            con.execute("ALTER VIEW int_owner_matches_enriched RENAME TO enriched_as_built")
            con.execute(f"CREATE VIEW int_owner_matches_enriched AS SELECT * FROM enriched_as_built UNION ALL "
                        f"SELECT {extra} FROM enriched_as_built WHERE match_id = '{SLAYER_ID}'")
        finally:
            con.close()
        try:
            tested = dbt_in_process(project, "test", "--select", "int_owner_matches_enriched")
            tests = node_results(tested, "test.")
            assert not tested.success and tests
            failed = {name for name, r in tests.items() if str(r.status) != "pass"}
            assert failed == {failing}, {name: (str(r.status), r.message) for name, r in tests.items()}
            run = dbt_in_process(project, "run", "--select", "match_stats", "--full-refresh")
            (stats,) = node_results(run, "model.").values()
            assert not run.success and stats.node.name == "match_stats" and str(stats.status) == "error"
            assert message in stats.message, stats.message
        finally:
            con = duckdb.connect(str(db))
            try:
                con.execute("DROP VIEW IF EXISTS int_owner_matches_enriched")
                con.execute("ALTER VIEW enriched_as_built RENAME TO int_owner_matches_enriched")
            finally:
                con.close()
        assert query(db, "SELECT count(*) AS n FROM match_stats") == before


def test_column_tests_count_failing_rows_and_store_the_keys(built: dict, project: DbtProject) -> None:
    """Runs last (it breaks match_stats): dbt's generic tests on the columns of match_stats each fail on their own,
    counting the failing rows (two duplicated keys: 2), and `--store-failures` keeps the duplicated keys. An unknown
    outcome code is data (a warning), not a failure. DuckDB itself refuses a duplicated key (the contract's primary
    key); the tests are for engines that do not enforce one (Spark): here the table is copied without it."""
    db = built["db"]
    con = duckdb.connect(str(db))
    try:
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO match_stats SELECT * FROM match_stats WHERE match_id = ?", [SLAYER_ID])
        con.execute("CREATE TABLE match_stats_copy AS SELECT * FROM match_stats")
        con.execute("DROP TABLE match_stats")
        con.execute("ALTER TABLE match_stats_copy RENAME TO match_stats")
        con.execute("INSERT INTO match_stats SELECT * FROM match_stats WHERE match_id IN (?, ?)",
                    [SLAYER_ID, ODDBALL_ID])
        con.execute("UPDATE match_stats SET kills = NULL, outcome = 9, session_id = 'no-such-session' "
                    "WHERE match_id = ?", [INFECTION_ID])
    finally:
        con.close()
    run = dbt_in_process(project, "test", "--select", "match_stats", "--store-failures")
    assert not run.success
    outcome = {name: (str(r.status), r.failures) for name, r in node_results(run, "test.").items()}
    failed = {name: value for name, value in outcome.items() if value[0] != "pass"}
    (key_test,) = (name for name in outcome if name.startswith("unique_key_match_stats_"))
    (outcome_test,) = (name for name in outcome if name.startswith("accepted_values_match_stats_outcome_"))
    assert failed == {
        key_test: ("fail", 2),
        "not_null_match_stats_kills": ("fail", 1),
        outcome_test: ("warn", 1),
        "relationships_match_stats_session_id__session_id__ref_sessions_": ("fail", 1)}, outcome
    (schema,) = {r["schema_name"] for r in query(db, "SELECT schema_name FROM duckdb_tables() "
                                                    "WHERE schema_name LIKE '%dbt_test__audit'")}
    stored = query(db, f'SELECT * FROM "{schema}"."{key_test}"')
    assert sorted((r["owner_xuid"], r["match_id"], r["n_records"]) for r in stored) == sorted(
        [(OWNER_XUID, SLAYER_ID, 2), (OWNER_XUID, ODDBALL_ID, 2)])
