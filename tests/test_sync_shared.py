"""`halo sync` of players who share matches: what another tracked player's database holds is not asked of the API
again (README, "Shared matches"). The same replay of the Halo Infinite API as tests/test_sync.py (127.0.0.1 only);
expected values from the recorded samples and the demo's files read with plain `json`, and by hand.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import built_metadata, read_json
from halo_api_replay import (
    BLOBS,
    ECONOMY,
    PROFILE,
    SKILL,
    STATS,
    UGC,
    ReplayServer,
    Reply,
    history_handler,
    history_row,
)
from test_sync import (
    FILM38,
    ODDBALL,
    PLAYER,
    PLAYER2,
    SERVED,
    SLAYER,
    STATS_FILES,
    XUID2,
    film_event_count,
    film_path,
    guard_loopback,
    history_path,
    match_ids,
    q,
    recorded,
    replay_api,
    state,
    stats_path,
    without_films,
)

from loader.cli.main import main as halo
from loader.core.paths import player_db_path, player_dir
from loader.demo import generate_demo


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    guard_loopback(monkeypatch)


@pytest.fixture
def api(data_root: Path, monkeypatch: pytest.MonkeyPatch):
    server = replay_api(monkeypatch)
    yield server
    server.stop()


def player2_history(api: ReplayServer) -> list[dict]:
    """Spartan002's history: every recorded match Spartan002 played (all six samples), newest first; their skill
    not served (the skill sample holds Spartan001's entry only, see test_two_players_share_reference_fetches...)."""
    rows = sorted((history_row(read_json(p), f"xuid({XUID2})") for p in STATS_FILES.values()
                   if any(pl["PlayerId"] == f"xuid({XUID2})" for pl in read_json(p)["Players"])),
                  key=lambda r: r["MatchInfo"]["StartTime"], reverse=True)
    api.add(STATS, history_path(XUID2), history_handler(rows))
    api.add(SKILL, f"/hi/matches/{SLAYER}/skill", Reply(404))
    return rows


def test_second_player_takes_stats_and_film_of_shared_matches(api: ReplayServer, capsys: pytest.CaptureFixture,
                                                              ) -> None:
    assert halo(["sync", "--player", PLAYER]) == 0       # SERVED, the Oddball film, the slayer match's skill
    rows = player2_history(api)
    shared = set(SERVED)                                    # Spartan001's four matches: Spartan002 played them all
    assert len(rows) == 6 and shared < {r["MatchId"] for r in rows}
    capsys.readouterr()
    api.clear_log()
    assert halo(["sync", "--player", PLAYER2]) == 0
    output = capsys.readouterr().out
    db, db1 = player_db_path(PLAYER2), player_db_path(PLAYER)
    assert match_ids(db) == {r["MatchId"] for r in rows}
    # the API was asked for the stats of the two matches Spartan001 does not have, and nothing else of the shared
    stats_asked = sorted(r.path for r in api.requests(STATS) if r.path.endswith("/stats"))
    assert stats_asked == sorted(stats_path(r["MatchId"]) for r in rows if r["MatchId"] not in shared)
    assert not any(r.path == film_path(m) for r in api.requests(UGC) for m in shared)
    assert api.requests(BLOBS) == []
    # the skill sample stored for Spartan001 has no entry of Spartan002's: asked of the API (404 here); the three
    # other shared matches' skill answered 404 to Spartan001's sync: not asked again
    assert [r.path for r in api.requests(SKILL) if any(m in r.path for m in shared)] == [f"/hi/matches/{SLAYER}/skill"]
    # the documents are the originals, loaded through the normal load (rows of Spartan002's file)
    for mid in shared:
        assert q(db, "SELECT body FROM raw.documents WHERE kind = 'match_stats' AND doc_id = ?", [mid]) == [
            (STATS_FILES[mid].read_bytes(),)]
    assert q(db, "SELECT body FROM raw.documents WHERE kind = 'highlight_events'") == [(FILM38.read_bytes(),)]
    events = "SELECT event_id, event_type, xuid, gamertag, time_ms FROM raw.highlight_events ORDER BY event_id"
    assert q(db, events) == q(db1, events) and len(q(db, events)) == film_event_count()
    st = state(PLAYER2)
    assert set(st["without_film"]) == set(rows_ids := {r["MatchId"] for r in rows}) - {ODDBALL}
    assert "HTTP 404" in st["without_film"][SLAYER] and "Spartan001's sync" in st["without_film"][SLAYER]
    assert set(st["without_skill"]) == rows_ids and st["pending"] == {}
    # calls saved, by hand: 4 stats + the Oddball film (metadata + chunk) + 3 films and 3 skill Spartan001's sync
    # was answered 404 for = 4 + 2 + 3 + 3
    assert "taken from other tracked players' databases: 4 match stats, 0 match skill, 1 film highlights; 6 " \
           "films/skill their syncs were told do not exist: 12 API calls saved" in output
    assert "; 12 calls saved by shared matches" in output


def hold_for_writing(database: Path) -> "subprocess.Popen[str]":
    """Another process with the database open for writing (DuckDB then lets no other process read it)."""
    code = ("import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('open', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(database)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    return holder


def test_unreadable_shared_database_falls_back_to_the_api(api: ReplayServer, capsys: pytest.CaptureFixture) -> None:
    without_films(api)
    assert halo(["sync", "--player", PLAYER]) == 0
    rows = player2_history(api)
    every = sorted(stats_path(r["MatchId"]) for r in rows)
    db1 = player_db_path(PLAYER)
    holder = hold_for_writing(db1)
    try:
        capsys.readouterr()
        api.clear_log()
        assert halo(["sync", "--player", PLAYER2]) == 0
    finally:
        holder.communicate("")
    err = capsys.readouterr().err
    assert "stats.duckdb could not be read for shared matches (busy: another process has it open for writing): " \
           "asked the API instead" in " ".join(err.split())
    assert sorted(r.path for r in api.requests(STATS) if r.path.endswith("/stats")) == every
    assert match_ids(player_db_path(PLAYER2)) == {r["MatchId"] for r in rows}
    # a damaged file: the same, with DuckDB's reason
    shutil.rmtree(player_dir(PLAYER2))
    db1.write_bytes(b"not a DuckDB file\n" * 1000)
    api.clear_log()
    assert halo(["sync", "--player", PLAYER2]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "stats.duckdb could not be read for shared matches (IOException: " in err
    assert "asked the API instead" in err
    assert sorted(r.path for r in api.requests(STATS) if r.path.endswith("/stats")) == every
    assert match_ids(player_db_path(PLAYER2)) == {r["MatchId"] for r in rows}


MATCH_FILE = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\.json$")


def demo_match_ids(folder: Path) -> set[str]:
    return {p.name[:-5] for p in folder.iterdir() if MATCH_FILE.match(p.name)}


def has_entry(skill_file: Path, xuid: int) -> bool:
    return skill_file.is_file() and any(v["Id"] == f"xuid({xuid})" for v in read_json(skill_file)["Value"])


def test_ten_shared_demo_matches_cost_no_stats_or_film_call(api: ReplayServer, data_root: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    """Two demo friends: Demo Chief's database (loaded from the demo's files) holds ten matches Demo Arbiter
    played too, each with its film; Demo Arbiter's first sync asks the API for none of their stats or films."""
    demo = generate_demo(tmp_path / "demo", players=2, matches_per_player=20, film_share=1.0)
    (tag_a, xuid_a, files_a), (tag_b, xuid_b, files_b) = demo.players
    shared = demo_match_ids(files_a) & demo_match_ids(files_b)
    held = sorted(m for m in shared if (files_a / f"{m}.highlights.json").is_file())
    assert len(shared) == 12 and len(held) == 10
    # Demo Chief's database: every file of the demo folder but the two shared matches without a film
    loaded_a = tmp_path / "chief"
    loaded_a.mkdir()
    for path in files_a.iterdir():
        if not any(m in path.name for m in shared - set(held)):
            shutil.copy2(path, loaded_a / path.name)
    built_metadata(data_root, demo.reference_dir)
    assert halo(["load", "matches", "--player", tag_a, "--xuid", str(xuid_a), str(loaded_a)]) == 0
    # the API of Demo Arbiter: the demo's history page, match stats and skill; no film (404), no profile lookups
    history = read_json(files_b / "history_0.json")["Results"]
    mine = demo_match_ids(files_b)
    assert {r["MatchId"] for r in history} == mine and len(mine) == 20
    api.add(STATS, history_path(xuid_b), history_handler(history))
    for mid in mine:
        api.add(STATS, stats_path(mid), recorded(files_b / f"{mid}.json"))
        if (files_b / f"skill_{mid}.json").is_file():
            api.add(SKILL, f"/hi/matches/{mid}/skill", recorded(files_b / f"skill_{mid}.json"))
    api.add(ECONOMY, f"/hi/players/xuid({xuid_b})/rewardtracks/careerranks/careerrank1",
            recorded(files_b / "career_rank_2.json"))
    api.add(PROFILE, "/users", Reply(404))
    capsys.readouterr()
    api.clear_log()
    assert halo(["sync", "--player", tag_b, "--xuid", str(xuid_b)]) == 0
    output = capsys.readouterr().out
    db_a, db_b = player_db_path(tag_a), player_db_path(tag_b)
    assert match_ids(db_b) == mine
    stats_asked = sorted(r.path for r in api.requests(STATS) if r.path.endswith("/stats"))
    assert stats_asked == sorted(stats_path(m) for m in mine - set(held))
    assert not any(m in r.path for r in api.requests(UGC) for m in held) and api.requests(BLOBS) == []
    skill_taken = [m for m in held if has_entry(files_a / f"skill_{m}.json", xuid_b)]
    skill_asked = {r.path for r in api.requests(SKILL)}
    assert skill_asked & {f"/hi/matches/{m}/skill" for m in held} == {
        f"/hi/matches/{m}/skill" for m in held if m not in skill_taken}
    # by hand: 10 stats + 10 films (metadata and chunk: 2 calls each) + the skill documents holding Arbiter's entry
    saved = 10 + 2 * 10 + len(skill_taken)
    assert len(skill_taken) == 9
    assert f"10 match stats, {len(skill_taken)} match skill, 10 film highlights: {saved} API calls saved" in output
    assert f"; {saved} calls saved by shared matches" in output
    for mid in held:
        assert q(db_b, "SELECT body FROM raw.documents WHERE kind = 'match_stats' AND doc_id = ?", [mid]) == [
            ((files_a / f"{mid}.json").read_bytes(),)]
        assert q(db_b, "SELECT body FROM raw.documents WHERE kind = 'highlight_events' AND doc_id = ?", [mid]) == [
            ((files_a / f"{mid}.highlights.json").read_bytes(),)]
    # the marts: the match-level rows of the ten matches are the same in both players' files
    assert halo(["build", "--all"]) == 0
    for mart, ignored in (("match_participants", {"is_owner", "loaded_at"}), ("highlight_events", {"loaded_at"})):
        columns = [c for (c,) in q(db_a, "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                        "'main' AND table_name = ? ORDER BY ordinal_position", [mart])
                   if c not in ignored]
        select = f"SELECT {', '.join(columns)} FROM main.{mart} WHERE match_id IN ? ORDER BY ALL"
        rows_a, rows_b = q(db_a, select, [held]), q(db_b, select, [held])
        assert rows_a == rows_b and {r[columns.index("match_id")] for r in rows_a} == set(held), mart
