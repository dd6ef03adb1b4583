"""Loader: every match-side fixture into a real player DuckDB, values checked against the raw JSON."""

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from conftest import FILM, MATCH_STATS_FILES, OWNER_ID, OWNER_XUID, RESPONSES, read_json

from loader.cli.main import main as halo
from loader.core.paths import player_db_path
from loader.ingest.load_matches import load_matches

PLAYER = "Spartan001"
SLAYER, CTF, ODDBALL, ZONES = (RESPONSES / f"get_match_stats{s}.json" for s in ("", "_ctf", "_oddball", "_zones"))
INFECTION, PVE = RESPONSES / "get_match_stats_infection.json", RESPONSES / "get_match_stats_pve.json"
FILM38 = FILM / "38_63391382-6b88-43f9-9ff4-6313404c419c.gzip"
RAW_TABLES = ["matches", "match_teams", "match_players", "match_player_medals", "match_player_personal_scores",
              "match_skill", "match_skill_team_mmrs", "highlight_events", "match_history",
              "career_rank_snapshots", "documents", "rejected", "owner"]


def match_sources(tmp: Path) -> list[Path]:
    """Every match-side fixture; the skill sample and the small chunk get names that carry their match id."""
    staged = tmp / "staged"
    staged.mkdir()
    slayer_id = read_json(SLAYER)["MatchId"]
    small_id = read_json(FILM / "match_stats.json")["MatchId"]
    shutil.copy(RESPONSES / "get_match_skill.json", staged / f"skill_{slayer_id}.json")
    shutil.copy(FILM / "highlight_events.gzip", staged / f"37_{small_id}.gzip")
    return [*MATCH_STATS_FILES, FILM38, RESPONSES / "get_match_history.json",
            RESPONSES / "get_player_career_rank.json", staged]


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def counts(db: Path) -> dict[str, int]:
    return {t: query(db, f"SELECT count(*) FROM raw.{t}")[0][0] for t in RAW_TABLES}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("loader")
    result = load_matches(PLAYER, match_sources(tmp), xuid=OWNER_XUID, root=tmp / "data")
    assert result.rejections == [], [r.reason for r in result.rejections]
    return player_db_path(PLAYER, tmp / "data")


def owner_json(doc: dict) -> dict:
    return next(p for p in doc["Players"] if p["PlayerId"] == OWNER_ID)


@pytest.mark.parametrize("fixture", [SLAYER, CTF, ODDBALL, ZONES], ids=lambda p: p.stem)
def test_owner_stats_equal_the_raw_json(loaded: Path, fixture: Path) -> None:
    doc = read_json(fixture)
    me = owner_json(doc)
    (entry,) = me["PlayerTeamStats"]
    core = entry["Stats"]["CoreStats"]
    row = query(loaded, "SELECT kills, deaths, assists, kda, accuracy, damage_dealt, damage_taken, last_team_id, "
                        "outcome, rank, shots_fired, shots_hit, average_life_duration_s, is_bot, xuid "
                        "FROM raw.match_players WHERE match_id = ? AND player_id = ?", [doc["MatchId"], OWNER_ID])
    assert row == [(core["Kills"], core["Deaths"], core["Assists"], core["KDA"], core["Accuracy"],
                    core["DamageDealt"], core["DamageTaken"], me["LastTeamId"], me["Outcome"], me["Rank"],
                    core["ShotsFired"], core["ShotsHit"], pytest.approx(_iso_seconds(core["AverageLifeDuration"])),
                    False, OWNER_XUID)]
    medals = query(loaded, "SELECT medal_id, count, total_personal_score_awarded FROM raw.match_player_medals "
                           "WHERE match_id = ? AND player_id = ? ORDER BY medal_id", [doc["MatchId"], OWNER_ID])
    assert medals == sorted((m["NameId"], m["Count"], m["TotalPersonalScoreAwarded"]) for m in core["Medals"])
    scores = query(loaded, "SELECT personal_score_id, count FROM raw.match_player_personal_scores "
                           "WHERE match_id = ? AND player_id = ? ORDER BY 1", [doc["MatchId"], OWNER_ID])
    assert scores == sorted((s["NameId"], s["Count"]) for s in core["PersonalScores"])


def _iso_seconds(text: str) -> float:
    """Independent ISO-8601 duration parse for the tests (PT#H#M#S and P#D forms)."""
    import re
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?", text)
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def test_mode_blocks_are_columns(loaded: Path) -> None:
    for fixture, sql, block, key in [
        (CTF, "ctf_flag_captures", "CaptureTheFlagStats", "FlagCaptures"),
        (ODDBALL, "oddball_skull_grabs", "OddballStats", "SkullGrabs"),
        (ZONES, "zones_stronghold_captures", "ZonesStats", "StrongholdCaptures"),
        (INFECTION, "infection_spartans_infected", "InfectionStats", "SpartansInfected"),
        (PVE, "pve_grunt_kills", "PveStats", "GruntKills"),
        (PVE, "elimination_eliminations", "EliminationStats", "Eliminations"),
    ]:
        doc = read_json(fixture)
        expected = {p["PlayerId"]: p["PlayerTeamStats"][0]["Stats"][block][key] for p in doc["Players"]}
        got = dict(query(loaded, f"SELECT player_id, {sql} FROM raw.match_players WHERE match_id = ?",
                         [doc["MatchId"]]))
        assert got == expected, sql
    oddball = read_json(ODDBALL)
    carrier = {p["PlayerId"]: _iso_seconds(p["PlayerTeamStats"][0]["Stats"]["OddballStats"]["TimeAsSkullCarrier"])
               for p in oddball["Players"]}
    got = dict(query(loaded, "SELECT player_id, oddball_time_as_skull_carrier_s FROM raw.match_players "
                             "WHERE match_id = ?", [oddball["MatchId"]]))
    assert got == pytest.approx(carrier)
    # A slayer match has no CTF block: its columns are null, not zero.
    slayer = read_json(SLAYER)["MatchId"]
    assert query(loaded, "SELECT count(*) FROM raw.match_players WHERE match_id = ? AND ctf_flag_captures IS NOT NULL",
                 [slayer]) == [(0,)]


def test_match_row_and_teams(loaded: Path) -> None:
    doc = read_json(SLAYER)
    info = doc["MatchInfo"]
    row = query(loaded, "SELECT start_time, duration_s, game_variant_category, map_asset_id, playlist_asset_id, "
                        "season_id, player_count FROM raw.matches WHERE match_id = ?", [doc["MatchId"]])
    assert [(r[0].isoformat(timespec="milliseconds"), *r[1:]) for r in row] == [(
        info["StartTime"].rstrip("Z"), pytest.approx(_iso_seconds(info["Duration"])), info["GameVariantCategory"],
        info["MapVariant"]["AssetId"], info["Playlist"]["AssetId"], info["SeasonId"], len(doc["Players"]))]
    teams = query(loaded, "SELECT team_id, outcome, rank, score FROM raw.match_teams WHERE match_id = ? ORDER BY 1",
                  [doc["MatchId"]])
    assert teams == [(t["TeamId"], t["Outcome"], t["Rank"], t["Stats"]["CoreStats"]["Score"]) for t in doc["Teams"]]
    custom = read_json(FILM / "match_stats.json")
    assert query(loaded, "SELECT playlist_asset_id, playlist_experience, season_id FROM raw.matches "
                         "WHERE match_id = ?", [custom["MatchId"]]) == [(None, None, None)]


def test_infection_has_all_13_players_and_no_teams(loaded: Path) -> None:
    doc = read_json(INFECTION)
    assert doc["Teams"] == [] and len(doc["Players"]) == 13
    rows = query(loaded, "SELECT player_id, last_team_id, outcome, rank, kills, left_in_progress "
                         "FROM raw.match_players WHERE match_id = ? ORDER BY player_id", [doc["MatchId"]])
    assert rows == sorted((p["PlayerId"], p["LastTeamId"], p["Outcome"], p["Rank"],
                           p["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Kills"],
                           p["ParticipationInfo"]["LeftInProgress"]) for p in doc["Players"])
    assert query(loaded, "SELECT count(*) FROM raw.match_teams WHERE match_id = ?", [doc["MatchId"]]) == [(0,)]
    assert sum(r[5] for r in rows) == 1  # one player left early


def test_bots_are_players_with_is_bot(loaded: Path) -> None:
    # The Firefight sample's enemies are AI (team 1 has no player entries): its 4 players are humans.
    pve = read_json(PVE)
    assert query(loaded, "SELECT count(*), count(*) FILTER (WHERE is_bot) FROM raw.match_players WHERE match_id = ?",
                 [pve["MatchId"]]) == [(len(pve["Players"]), 0)]
    # The small custom game has a real bot entry: bid(8.0), PlayerType 2, difficulty from BotAttributes.
    custom = read_json(FILM / "match_stats.json")
    bot = next(p for p in custom["Players"] if p["PlayerId"].startswith("bid("))
    assert query(loaded, "SELECT is_bot, xuid, player_type, bot_difficulty, kills FROM raw.match_players "
                         "WHERE match_id = ? AND player_id = ?", [custom["MatchId"], bot["PlayerId"]]) == [
        (True, None, bot["PlayerType"], bot["BotAttributes"]["Difficulty"],
         bot["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Kills"])]


def test_film_38_events_by_type(loaded: Path) -> None:
    # The fixture README states the chunk's content: 640 events, 203 kills, 203 deaths, 85 medals, 149 mode.
    rows = dict(query(loaded, "SELECT event_type, count(*) FROM raw.highlight_events "
                              "WHERE match_id = '63391382-6b88-43f9-9ff4-6313404c419c' GROUP BY 1"))
    assert rows == {"kill": 203, "death": 203, "medal": 85, "mode": 149}
    assert query(loaded, "SELECT count(DISTINCT event_id), min(film_major_version) FROM raw.highlight_events "
                         "WHERE match_id = '63391382-6b88-43f9-9ff4-6313404c419c'") == [(640, 38)]
    # The owner's kill events equal the owner's Kills in the oddball match stats.
    kills = owner_json(read_json(ODDBALL))["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Kills"]
    assert query(loaded, "SELECT count(*) FROM raw.highlight_events WHERE xuid = ? AND event_type = 'kill' "
                         "AND match_id = '63391382-6b88-43f9-9ff4-6313404c419c'", [OWNER_XUID]) == [(kills,)]
    small = query(loaded, "SELECT count(*), min(film_major_version) FROM raw.highlight_events WHERE match_id = ?",
                  [read_json(FILM / "match_stats.json")["MatchId"]])
    assert small == [(6, 37)]


def test_skill_history_and_career_rank(loaded: Path) -> None:
    skill = read_json(RESPONSES / "get_match_skill.json")["Value"][0]
    result = skill["Result"]
    slayer_id = read_json(SLAYER)["MatchId"]
    assert query(loaded, "SELECT player_id, team_id, team_mmr, pre_match_csr, post_match_csr, post_match_csr_tier, "
                         "post_match_csr_sub_tier, expected_kills, kills_std_dev, expected_deaths, deaths_count "
                         "FROM raw.match_skill WHERE match_id = ?", [slayer_id]) == [(
        skill["Id"], result["TeamId"], result["TeamMmr"], result["RankRecap"]["PreMatchCsr"]["Value"],
        result["RankRecap"]["PostMatchCsr"]["Value"], result["RankRecap"]["PostMatchCsr"]["Tier"],
        result["RankRecap"]["PostMatchCsr"]["SubTier"], result["StatPerformances"]["Kills"]["Expected"],
        result["StatPerformances"]["Kills"]["StdDev"], result["StatPerformances"]["Deaths"]["Expected"],
        result["StatPerformances"]["Deaths"]["Count"])]
    assert query(loaded, "SELECT team_id, mmr FROM raw.match_skill_team_mmrs WHERE match_id = ? ORDER BY 1",
                 [slayer_id]) == sorted((int(k), v) for k, v in result["TeamMmrs"].items())
    history = read_json(RESPONSES / "get_match_history.json")["Results"]
    assert query(loaded, "SELECT count(*), count(DISTINCT match_id) FROM raw.match_history") == [(25, 25)]
    first = history[0]
    assert query(loaded, "SELECT outcome, rank, last_team_id FROM raw.match_history WHERE match_id = ?",
                 [first["MatchId"]]) == [(first["Outcome"], first["Rank"], first["LastTeamId"])]
    career = read_json(RESPONSES / "get_player_career_rank.json")["CurrentProgress"]
    mtime = os.stat(RESPONSES / "get_player_career_rank.json").st_mtime
    rows = query(loaded, "SELECT rank, partial_progress, has_reached_max_rank, observed_at_source, "
                         "epoch(observed_at) FROM raw.career_rank_snapshots")
    assert rows == [(career["Rank"], career["PartialProgress"], career["HasReachedMaxRank"], "file_mtime",
                     pytest.approx(mtime, abs=1e-3))]


def test_every_document_is_kept_with_its_bytes(loaded: Path) -> None:
    rows = query(loaded, "SELECT kind, doc_id, body FROM raw.documents WHERE kind = 'match_stats' ORDER BY doc_id")
    expected = sorted((read_json(p)["MatchId"], p.read_bytes()) for p in MATCH_STATS_FILES)
    assert [(r[1], r[2]) for r in rows] == expected
    assert query(loaded, "SELECT body FROM raw.documents WHERE kind = 'highlight_events' AND doc_id = "
                         "'63391382-6b88-43f9-9ff4-6313404c419c'") == [(FILM38.read_bytes(),)]
    assert query(loaded, "SELECT xuid, gamertag FROM raw.owner") == [(OWNER_XUID, PLAYER)]


def test_reload_is_idempotent_and_newer_copy_replaces(tmp_path: Path) -> None:
    root = tmp_path / "data"
    sources = match_sources(tmp_path)
    first = load_matches(PLAYER, sources, xuid=OWNER_XUID, root=root)
    db = player_db_path(PLAYER, root)
    before = counts(db)
    assert before["matches"] == len(MATCH_STATS_FILES) and before["rejected"] == 0
    snapshot = query(db, "SELECT * EXCLUDE (loaded_at) FROM raw.documents ORDER BY kind, doc_id")

    again = load_matches(PLAYER, sources, root=root)
    assert (again.counts.loaded, again.counts.unchanged, again.counts.replaced) == (0, first.counts.loaded, 0)
    assert counts(db) == before
    assert query(db, "SELECT * EXCLUDE (loaded_at) FROM raw.documents ORDER BY kind, doc_id") == snapshot

    # A newer copy of the slayer match (the API corrected a stat) replaces the old one everywhere.
    doc = read_json(SLAYER)
    me = owner_json(doc)
    core = me["PlayerTeamStats"][0]["Stats"]["CoreStats"]
    core["Kills"] = 99
    core["Medals"] = core["Medals"][:1]
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(doc))
    replaced = load_matches(PLAYER, [newer], root=root)
    assert (replaced.counts.loaded, replaced.counts.replaced) == (0, 1)
    after = counts(db)
    removed_medals = len(owner_json(read_json(SLAYER))["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Medals"]) - 1
    assert after == {**before, "match_player_medals": before["match_player_medals"] - removed_medals}
    assert query(db, "SELECT kills FROM raw.match_players WHERE match_id = ? AND player_id = ?",
                 [doc["MatchId"], OWNER_ID]) == [(99,)]
    assert query(db, "SELECT source_path FROM raw.documents WHERE kind = 'match_stats' AND doc_id = ?",
                 [doc["MatchId"]]) == [(str(newer),)]

    # An older file of the same match does not undo the correction.
    older = tmp_path / "older.json"
    older.write_bytes(SLAYER.read_bytes())
    os.utime(older, (1_000_000_000, 1_000_000_000))
    ignored = load_matches(PLAYER, [older], root=root)
    assert (ignored.counts.loaded, ignored.counts.replaced, ignored.counts.older_ignored) == (0, 0, 1)
    assert query(db, "SELECT kills FROM raw.match_players WHERE match_id = ? AND player_id = ?",
                 [doc["MatchId"], OWNER_ID]) == [(99,)]


def test_player_with_two_team_entries_is_summed(tmp_path: Path) -> None:
    """Hand-made: the owner played 5 kills for team 0, then 7 for team 1 (LastTeamId 1)."""
    doc = read_json(SLAYER)
    me = owner_json(doc)
    core = me["PlayerTeamStats"][0]["Stats"]["CoreStats"]
    first = json.loads(json.dumps(me["PlayerTeamStats"][0]))
    second = json.loads(json.dumps(me["PlayerTeamStats"][0]))
    first["TeamId"], second["TeamId"] = 0, 1
    a, b = first["Stats"]["CoreStats"], second["Stats"]["CoreStats"]
    a.update(Kills=5, Deaths=2, Assists=1, ShotsFired=100, ShotsHit=40, MaxKillingSpree=3, DamageDealt=1000,
             Spawns=3, AverageLifeDuration="PT30S",
             Medals=[{"NameId": 622331684, "Count": 1, "TotalPersonalScoreAwarded": 0}])
    b.update(Kills=7, Deaths=4, Assists=2, ShotsFired=50, ShotsHit=30, MaxKillingSpree=5, DamageDealt=500,
             Spawns=5, AverageLifeDuration="PT50S",
             Medals=[{"NameId": 622331684, "Count": 2, "TotalPersonalScoreAwarded": 0},
                     {"NameId": 4294967295, "Count": 1, "TotalPersonalScoreAwarded": 10}])
    first["Stats"]["PvpStats"].update(Kills=5, Deaths=2, Assists=1)
    second["Stats"]["PvpStats"].update(Kills=7, Deaths=4, Assists=2)
    me["PlayerTeamStats"] = [first, second]
    me["LastTeamId"] = 1
    path = tmp_path / "two_entries.json"
    path.write_text(json.dumps(doc))
    result = load_matches(PLAYER, [path], xuid=OWNER_XUID, root=tmp_path / "data")
    assert result.rejections == []
    db = player_db_path(PLAYER, tmp_path / "data")
    row = query(db, "SELECT kills, deaths, assists, pvp_kills, shots_fired, shots_hit, accuracy, max_killing_spree, "
                    "damage_dealt, last_team_id, team_stats_entries, average_life_duration_s FROM raw.match_players "
                    "WHERE player_id = ?", [OWNER_ID])
    # Sums: 12 kills, 6 deaths, 3 assists, 150 shots, 70 hits -> accuracy 46.67; spree max(3, 5);
    # average life weighted by spawns: (30*3 + 50*5) / 8 = 42.5 s.
    assert row == [(12, 6, 3, 12, 150, 70, 46.67, 5, 1500, 1, 2, 42.5)]
    medals = query(db, "SELECT medal_id, count, total_personal_score_awarded FROM raw.match_player_medals "
                       "WHERE player_id = ? ORDER BY medal_id", [OWNER_ID])
    assert medals == [(622331684, 3, 0), (4294967295, 1, 10)]
    assert core["Kills"] == 18  # the untouched fixture value, for contrast


def test_unknown_codes_are_data(tmp_path: Path) -> None:
    doc = read_json(SLAYER)
    doc["MatchInfo"]["GameVariantCategory"] = 999
    doc["MatchInfo"]["NewFieldFromTomorrow"] = {"x": 1}
    path = tmp_path / "future.json"
    path.write_text(json.dumps(doc))
    result = load_matches(PLAYER, [path], xuid=OWNER_XUID, root=tmp_path / "data")
    assert result.rejections == []
    db = player_db_path(PLAYER, tmp_path / "data")
    assert query(db, "SELECT game_variant_category FROM raw.matches") == [(999,)]
    assert b"NewFieldFromTomorrow" in query(db, "SELECT body FROM raw.documents")[0][0]


def test_cli_load_owner_rules(data_root: Path, capsys: pytest.CaptureFixture) -> None:
    assert halo(["load", "matches", "--player", PLAYER, str(SLAYER)]) == 2  # first load needs --xuid
    assert "--xuid" in capsys.readouterr().err
    assert halo(["load", "matches", "--player", PLAYER, "--xuid", f"xuid({OWNER_XUID})", str(SLAYER)]) == 0
    out = capsys.readouterr().out
    assert "loaded (new)" in out and "documents read" in out
    assert halo(["load", "matches", "--player", PLAYER, "--xuid", "2533274900000099", str(CTF)]) == 2
    assert "belongs to xuid(2533274900000017)" in capsys.readouterr().err
    assert halo(["load", "matches", "--player", PLAYER, str(data_root / "missing.json")]) == 2
    assert halo(["load", "matches", "--player", PLAYER, str(CTF)]) == 0
    db = player_db_path(PLAYER)
    assert Counter(r[0] for r in query(db, "SELECT match_id FROM raw.matches")) == Counter(
        [read_json(SLAYER)["MatchId"], read_json(CTF)["MatchId"]])
