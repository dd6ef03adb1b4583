"""`halo sync`: the real SPNKr client against a local replay of the Halo Infinite API (127.0.0.1 only).

Expected values come from the recorded samples read with plain `json` (and the
film chunk with SPNKr's reader), never from the code under test.
"""

import asyncio
import functools
import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import FILM, FIXTURES, OWNER_ID, OWNER_XUID, RESPONSES, read_json
from halo_api_replay import (
    BLOBS,
    ECONOMY,
    GAMECMS,
    PROFILE,
    SKILL,
    STATS,
    UGC,
    ReplayServer,
    Reply,
    azure_sign_in,
    film_metadata,
    history_handler,
    history_row,
    json_reply,
    profile_reply,
)
from spnkr.film import highlight_events as spnkr_events

from loader.cli.main import main as halo
from loader.cli.sync import exit_code
from loader.core.paths import metadata_db_path, player_db_path, player_dir
from loader.demo import generate_demo
from loader.ingest.load_matches import load_matches
from loader.sync import EXPIRED_MESSAGE, SyncOptions, sync

SPARTAN, CLEARANCE = "test-spartan-7f3a9c", "test-clearance-2d81e4"
PLAYER, PLAYER2, XUID2 = "Spartan001", "Spartan002", 2533274900000034
STATS_FILES = {read_json(p)["MatchId"]: p for p in sorted(RESPONSES.glob("get_match_stats*.json"))}
HISTORY = read_json(RESPONSES / "get_match_history.json")
HISTORY_IDS = [row["MatchId"] for row in HISTORY["Results"]]
SERVED = [mid for mid in HISTORY_IDS if mid in STATS_FILES]          # history matches the replay has stats for
ODDBALL = read_json(RESPONSES / "get_match_stats_oddball.json")["MatchId"]
SLAYER = read_json(RESPONSES / "get_match_stats.json")["MatchId"]   # the skill sample's match (18 kills)
ZONES = read_json(RESPONSES / "get_match_stats_zones.json")["MatchId"]
NEW_MATCHES = [read_json(RESPONSES / f"get_match_stats_{m}.json") for m in ("infection", "pve")]
FILM38 = FILM / f"38_{ODDBALL}.gzip"
RECORDED_ASSETS = {  # (discovery path kind, asset id) -> sample; served for any version of that asset
    (kind, read_json(RESPONSES / name)["AssetId"]): RESPONSES / name
    for kind, name in (("playlists", "get_playlist.json"), ("maps", "get_map.json"),
                       ("mapModePairs", "get_map_mode_pair.json"), ("ugcGameVariants", "get_ugc_game_variant.json"))
}
GAMECMS_FILES = {
    "/hi/Waypoint/file/medals/metadata.json": "get_medal_metadata.json",
    "/hi/Progression/file/RewardTracks/CareerRanks/careerRank1.json": "get_career_reward_track.json",
    "/hi/progression/file/calendars/seasons/seasoncalendar.json": "get_season_calendar.json",
    "/hi/Progression/file/Csr/Calendars/CsrSeasonCalendar.json": "get_csr_season_calendar.json",
}
AZURE_VARS = ("HALO_AZURE_CLIENT_ID", "HALO_AZURE_CLIENT_SECRET", "HALO_AZURE_REFRESH_TOKEN")


@functools.cache
def film_event_count() -> int:
    return len(list(spnkr_events.read(FILM38.read_bytes(), 38)))


def without_films(server: ReplayServer) -> None:
    """For tests not about films: SPNKr's film reader takes about a second per chunk; a 404 keeps tests fast."""
    server.add(UGC, film_path(ODDBALL), Reply(404))


def recorded(path: Path) -> Reply:
    return Reply(200, path.read_bytes())


def stats_path(mid: str) -> str:
    return f"/hi/matches/{mid}/stats"


def film_path(mid: str) -> str:
    return f"/hi/films/matches/{mid}/spectate"


def history_path(xuid: int) -> str:
    return f"/hi/players/xuid({xuid})/matches"


PROFILES = {int(u["xuid"]): u["gamertag"] for u in read_json(FIXTURES / "profile" / "get_users_by_id.json")}


def users_by_id(path: str, query: dict[str, list[str]]) -> Reply:
    """Test data: the profile service's users-by-id answer (the hand-made profile fixture's names, else a made-up
    one per XUID)."""
    xuids = [int(x) for x in query.get("xuids", [])]
    pic = "https://example.invalid/gamerpic.png"
    return json_reply([{"xuid": str(x), "gamertag": PROFILES.get(x, f"Player{x % 1000:03d}"),
                        "gamerpic": {"small": pic, "medium": pic, "large": pic, "xlarge": pic}} for x in xuids])


def humans_of(*mids: str) -> set[int]:
    return {int(p["PlayerId"][5:-1]) for mid in mids for p in read_json(STATS_FILES[mid])["Players"]
            if p["PlayerId"].startswith("xuid(")}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the network: any connection or lookup other than 127.0.0.1 fails the test."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1"):
            raise AssertionError(f"test tried to reach the network: {address}")
        return real_connect(sock, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host not in ("127.0.0.1", "localhost", "::1", None):
            raise AssertionError(f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def api(data_root: Path, monkeypatch: pytest.MonkeyPatch):
    """The replay server with the recorded samples, the sync wired to it, tokens in the environment."""
    server = ReplayServer(SPARTAN, CLEARANCE).start()
    server.add(PROFILE, f"/users/gt({PLAYER})", profile_reply(OWNER_XUID, PLAYER))
    server.add(PROFILE, f"/users/gt({PLAYER2})", profile_reply(XUID2, PLAYER2))
    server.add(PROFILE, "/users", users_by_id)
    server.add(STATS, history_path(OWNER_XUID),
               history_handler(list(HISTORY["Results"]), (RESPONSES / "get_match_history.json").read_bytes()))
    for mid, path in STATS_FILES.items():
        server.add(STATS, stats_path(mid), recorded(path))
    server.add(SKILL, f"/hi/matches/{SLAYER}/skill", recorded(RESPONSES / "get_match_skill.json"))
    film = film_metadata(read_json(RESPONSES / "get_film_by_match_id.json"), ODDBALL, 38)
    server.add(UGC, film_path(ODDBALL), json_reply(film))
    chunk = film["CustomData"]["Chunks"][-1]["FileRelativePath"]
    server.add(BLOBS, f"/ugcstorage/film/test-{ODDBALL}{chunk}",
               Reply(200, FILM38.read_bytes(), content_type="application/octet-stream"))
    server.add(ECONOMY, f"/hi/players/xuid({OWNER_XUID})/rewardtracks/careerranks/careerrank1",
               recorded(RESPONSES / "get_player_career_rank.json"))
    server.add(ECONOMY, f"/hi/players/xuid({XUID2})/rewardtracks/careerranks/careerrank1",
               recorded(RESPONSES / "get_player_career_rank.json"))
    for path, name in GAMECMS_FILES.items():
        server.add(GAMECMS, path, recorded(RESPONSES / name))
    for (kind, asset_id), path in RECORDED_ASSETS.items():
        server.add_prefix(UGC, f"/hi/{kind}/{asset_id}/versions/", recorded(path))
    monkeypatch.setattr("loader.sync.engine.new_session", server.session)
    monkeypatch.setenv("HALO_SPARTAN_TOKEN", SPARTAN)
    monkeypatch.setenv("HALO_CLEARANCE_TOKEN", CLEARANCE)
    monkeypatch.setenv("HALO_REQUESTS_PER_SECOND", "500")
    for name in AZURE_VARS:
        monkeypatch.delenv(name, raising=False)
    yield server
    server.stop()


def q(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def match_ids(db: Path) -> set[str]:
    return {row[0] for row in q(db, "SELECT match_id FROM raw.matches")}


def state(gamertag: str = PLAYER) -> dict:
    return json.loads((player_dir(gamertag) / "sync_state.json").read_text())


def inbox(gamertag: str = PLAYER) -> list[str]:
    folder = player_dir(gamertag) / "inbox"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def medal_ids(stats: dict) -> set[int]:
    return {medal["NameId"] for player in stats["Players"] for team in player["PlayerTeamStats"]
            for medal in team["Stats"]["CoreStats"]["Medals"]}


def test_first_sync(api: ReplayServer, data_root: Path, capsys: pytest.CaptureFixture) -> None:
    assert halo(["sync", "--player", PLAYER]) == 0
    db = player_db_path(PLAYER)
    assert len(SERVED) == 4 and match_ids(db) == set(SERVED)
    assert q(db, "SELECT xuid FROM raw.owner") == [(OWNER_XUID,)]
    # the history (25 rows, one full page, then an empty one), skill of the slayer match, the oddball's film
    assert q(db, "SELECT count(*) FROM raw.match_history")[0][0] == len(HISTORY_IDS) == 25
    assert [r.query["start"] for r in api.requests(STATS, history_path(OWNER_XUID))] == [["0"], ["25"]]
    skill = read_json(RESPONSES / "get_match_skill.json")["Value"][0]
    assert q(db, "SELECT match_id, player_id, pre_match_csr FROM raw.match_skill") == [
        (SLAYER, skill["Id"], skill["Result"]["RankRecap"]["PreMatchCsr"]["Value"])]
    assert q(db, "SELECT match_id, count(*), any_value(film_major_version) FROM raw.highlight_events GROUP BY 1") \
        == [(ODDBALL, film_event_count(), 38)]
    rank = read_json(RESPONSES / "get_player_career_rank.json")["CurrentProgress"]["Rank"]
    assert q(db, "SELECT rank FROM raw.career_rank_snapshots") == [(rank,)]
    # every stored document is the response as received
    for mid in SERVED:
        body = q(db, "SELECT body FROM raw.documents WHERE kind = 'match_stats' AND doc_id = ?", [mid])[0][0]
        assert body == STATS_FILES[mid].read_bytes()
    # each match asked for once; the skill request names the match's humans; tokens sent on every service call
    for mid in HISTORY_IDS:
        assert len(api.requests(STATS, stats_path(mid))) == 1
    humans = sorted(p["PlayerId"] for p in read_json(STATS_FILES[SLAYER])["Players"]
                    if p["PlayerId"].startswith("xuid("))
    assert sorted(api.requests(SKILL, f"/hi/matches/{SLAYER}/skill")[0].query["players"]) == humans
    assert all(r.authorised for r in api.log if r.host != BLOBS)
    # the state: the 21 matches without stats are not asked again, three matches have no film, nothing pending
    st = state()
    assert st["xuid"] == OWNER_XUID and st["pending"] == {}
    assert set(st["unavailable"]) == set(HISTORY_IDS) - set(SERVED)
    assert set(st["without_film"]) == set(SERVED) - {ODDBALL}
    assert set(st["without_skill"]) == set(SERVED) - {SLAYER}
    assert inbox() == []
    # reference data: the one recorded asset the matches use, and the singletons
    meta = metadata_db_path()
    used = {(m["MatchInfo"]["Playlist"]["AssetId"]) for m in map(read_json, (STATS_FILES[s] for s in SERVED))}
    recorded_used = {asset for (kind, asset) in RECORDED_ASSETS if kind == "playlists" and asset in used}
    assert set(q(meta, "SELECT kind, doc_id FROM raw.documents")) == (
        {("playlist", a) for a in recorded_used} |
        {(k, k) for k in ("medal_metadata", "career_reward_track", "season_calendar", "csr_season_calendar")})
    # no token anywhere on disk or in the output
    output = capsys.readouterr()
    for path in data_root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SPARTAN.encode() not in data and CLEARANCE.encode() not in data, path
    assert SPARTAN not in output.out + output.err and CLEARANCE not in output.out + output.err
    # the asset the sync fetched names the match once built (it was null before the sync stored it)
    assert halo(["build", "--player", PLAYER]) == 0
    assert q(db, "SELECT playlist_name FROM main.match_stats WHERE match_id = ?", [SLAYER]) == [
        (read_json(RESPONSES / "get_playlist.json")["PublicName"],)]


def test_second_sync_fetches_only_the_two_new_matches(api: ReplayServer, data_root: Path) -> None:
    without_films(api)
    assert halo(["sync", "--player", PLAYER]) == 0
    warehouse_state = json.loads((data_root / "warehouse" / "sync_state.json").read_text())
    first_unknown_medals = set(warehouse_state["medals_unknown_at_last_fetch"])
    api.add(STATS, history_path(OWNER_XUID),
            history_handler([history_row(m, OWNER_ID) for m in NEW_MATCHES] + list(HISTORY["Results"])))
    api.clear_log()
    assert halo(["sync", "--player", PLAYER]) == 0
    db = player_db_path(PLAYER)
    new_ids = [m["MatchId"] for m in NEW_MATCHES]
    assert match_ids(db) == set(SERVED) | set(new_ids)
    stats_requests = [r.path for r in api.requests(STATS) if r.path.endswith("/stats")]
    assert sorted(stats_requests) == sorted(stats_path(m) for m in new_ids)
    assert [r.query["start"] for r in api.requests(STATS, history_path(OWNER_XUID))] == [["0"]]
    assert q(db, "SELECT count(*) FROM raw.career_rank_snapshots")[0][0] == 2
    # reference: only the new matches' assets; the medal metadata again only if they brought unknown medals
    asked = {r.path for r in api.requests(UGC) if "/versions/" in r.path}
    old_assets = {m["MatchInfo"][k]["AssetId"] for m in map(read_json, (STATS_FILES[s] for s in SERVED))
                  for k in ("MapVariant", "UgcGameVariant", "Playlist", "PlaylistMapModePair")}
    assert asked and not any(asset in path for path in asked for asset in old_assets)
    metadata = read_json(RESPONSES / "get_medal_metadata.json")
    known = {m["nameId"] for m in metadata["medals"]}
    unknown_after = set().union(*(medal_ids(m) for m in NEW_MATCHES)) - known
    refetched = bool(unknown_after - first_unknown_medals)
    assert len(api.requests(GAMECMS, "/hi/Waypoint/file/medals/metadata.json")) == int(refetched)
    assert state()["pending"] == {} and inbox() == []


def test_429_then_success(api: ReplayServer, capsys: pytest.CaptureFixture) -> None:
    without_films(api)
    api.add(STATS, stats_path(SLAYER), [Reply(429, headers={"Retry-After": "0"}), recorded(STATS_FILES[SLAYER])])
    assert halo(["sync", "--player", PLAYER]) == 0
    assert [r.status for r in api.requests(STATS, stats_path(SLAYER))] == [429, 200]
    db = player_db_path(PLAYER)
    assert q(db, "SELECT count(*) FROM raw.documents WHERE kind = 'match_stats' AND doc_id = ?", [SLAYER]) == [(1,)]
    assert q(db, "SELECT count(*) FROM raw.matches WHERE match_id = ?", [SLAYER]) == [(1,)]
    assert "(1 retried)" in capsys.readouterr().out


def test_404_film_is_recorded_and_not_asked_again(api: ReplayServer) -> None:
    api.add(UGC, film_path(ODDBALL), Reply(404))
    assert halo(["sync", "--player", PLAYER]) == 0
    db = player_db_path(PLAYER)
    assert ODDBALL in match_ids(db)
    assert q(db, "SELECT count(*) FROM raw.highlight_events") == [(0,)]
    st = state()
    assert "404" in st["without_film"][ODDBALL] and st["pending"] == {}
    api.clear_log()
    assert halo(["sync", "--player", PLAYER]) == 0
    assert api.requests(UGC, film_path(ODDBALL)) == []


def test_401_says_tokens_expired(api: ReplayServer, data_root: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("HALO_SPARTAN_TOKEN", "expired-token")
    assert halo(["sync", "--player", PLAYER]) == 2
    assert EXPIRED_MESSAGE in capsys.readouterr().err
    assert [(r.host, r.status) for r in api.log] == [(PROFILE, 401)]
    assert not player_db_path(PLAYER).exists() and inbox() == []


def test_401_mid_sync_keeps_what_was_fetched_and_resumes(api: ReplayServer, capsys: pytest.CaptureFixture) -> None:
    without_films(api)
    pages = history_handler(list(HISTORY["Results"]), (RESPONSES / "get_match_history.json").read_bytes())

    def expire_after_history(path: str, query: dict) -> Reply:
        reply = pages(path, query)
        if query["start"] == ["25"]:
            api.spartan = "rotated"           # the tokens expire once the history has been read
        return reply

    api.add(STATS, history_path(OWNER_XUID), expire_after_history)
    assert halo(["sync", "--player", PLAYER]) == 2
    assert EXPIRED_MESSAGE in capsys.readouterr().err
    db = player_db_path(PLAYER)
    assert q(db, "SELECT count(*) FROM raw.match_history")[0][0] == 25 and match_ids(db) == set()
    assert set(state()["pending"]) == set(HISTORY_IDS) and inbox() == []
    api.spartan = SPARTAN
    api.add(STATS, history_path(OWNER_XUID), pages)
    assert halo(["sync", "--player", PLAYER]) == 0
    assert match_ids(db) == set(SERVED) and state()["pending"] == {}


def test_failed_match_is_retried_and_the_walk_passes_known_matches(api: ReplayServer, data_root: Path) -> None:
    without_films(api)
    api.add(STATS, stats_path(ZONES), Reply(503))
    options = SyncOptions(requests_per_second=500, max_attempts=3, backoff_base=0.001)
    report = asyncio.run(sync([PLAYER], options=options))
    assert [r.status for r in api.requests(STATS, stats_path(ZONES))] == [503, 503, 503]
    assert set(report.players[0].failed) == {ZONES}
    entry = state()["pending"][ZONES]
    assert entry["attempts"] == 1 and "HTTP 503" in entry["error"]
    db = player_db_path(PLAYER)
    assert match_ids(db) == set(SERVED) - {ZONES}
    assert exit_code(report) == 1                         # halo sync exits 1: something is left to retry
    api.add(STATS, stats_path(ZONES), recorded(STATS_FILES[ZONES]))
    api.clear_log()
    assert halo(["sync", "--player", PLAYER]) == 0
    assert ZONES in match_ids(db) and state()["pending"] == {}
    # the newest match was already known: the walk went on to the failed one, still on the first page
    assert HISTORY_IDS.index(ZONES) > 0 and HISTORY_IDS[0] in SERVED
    assert [r.path for r in api.requests(STATS) if r.path.endswith("/stats")] == [stats_path(ZONES)]
    assert [r.query["start"] for r in api.requests(STATS, history_path(OWNER_XUID))] == [["0"]]


def test_crash_between_fetch_and_load_loses_nothing(api: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr("loader.sync.engine.load_matches", crash)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(sync([PLAYER]))
    waiting = inbox()
    assert {f"{m}.json" for m in SERVED} <= set(waiting) and f"38_{ODDBALL}.gzip" in waiting
    assert f"skill_{SLAYER}.json" in waiting
    monkeypatch.setattr("loader.sync.engine.load_matches", load_matches)
    api.clear_log()
    report = asyncio.run(sync([PLAYER], options=SyncOptions(requests_per_second=500)))
    assert report.players[0].recovered_files == len(waiting)
    db = player_db_path(PLAYER)
    assert match_ids(db) == set(SERVED)
    assert q(db, "SELECT match_id, count(*) FROM raw.highlight_events GROUP BY 1") == [(ODDBALL, film_event_count())]
    assert not any(r.path == stats_path(m) for r in api.log for m in SERVED)   # nothing fetched twice
    assert inbox() == []


def test_two_players_share_reference_fetches_then_sync_all(api: ReplayServer) -> None:
    without_films(api)
    # the skill sample holds Spartan001's entry only: as Spartan002's skill of the slayer match it is not theirs (the
    # loader rejects it, see test_ownership.py); the API would list both, which no sample shows: no skill here
    api.add(SKILL, f"/hi/matches/{SLAYER}/skill", Reply(404))
    rows = sorted((history_row(read_json(p), f"xuid({XUID2})") for p in STATS_FILES.values()
                   if any(pl["PlayerId"] == f"xuid({XUID2})" for pl in read_json(p)["Players"])),
                  key=lambda r: r["MatchInfo"]["StartTime"], reverse=True)
    api.add(STATS, history_path(XUID2), history_handler(rows))
    assert halo(["sync", "--player", PLAYER, PLAYER2]) == 0
    assert match_ids(player_db_path(PLAYER2)) == {r["MatchId"] for r in rows}
    reference = [r.path for r in api.log if r.host == GAMECMS or (r.host == UGC and "/versions/" in r.path)]
    assert reference and len(reference) == len(set(reference))           # every asset asked for once
    api.clear_log()
    assert halo(["sync", "--all"]) == 0
    assert sorted(r.path for r in api.log) == sorted([history_path(OWNER_XUID), history_path(XUID2)])


def test_missing_credentials_is_a_usage_error(api: ReplayServer, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("HALO_SPARTAN_TOKEN")
    assert halo(["sync", "--player", PLAYER]) == 2
    assert "HALO_SPARTAN_TOKEN" in capsys.readouterr().err and api.log == []


def test_azure_app_flow(api: ReplayServer, data_root: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture) -> None:
    without_films(api)
    azure_sign_in(api, "test-refresh-token", OWNER_XUID, PLAYER)
    monkeypatch.delenv("HALO_SPARTAN_TOKEN")
    monkeypatch.delenv("HALO_CLEARANCE_TOKEN")
    monkeypatch.setenv("HALO_AZURE_CLIENT_ID", "test-client-id")
    monkeypatch.setenv("HALO_AZURE_CLIENT_SECRET", "test-client-secret")
    monkeypatch.setenv("HALO_AZURE_REFRESH_TOKEN", "expired-refresh-token")
    assert halo(["sync", "--player", PLAYER]) == 2
    assert "refresh token" in capsys.readouterr().err and not player_db_path(PLAYER).exists()
    monkeypatch.setenv("HALO_AZURE_REFRESH_TOKEN", "test-refresh-token")
    assert halo(["sync", "--player", PLAYER]) == 0
    assert match_ids(player_db_path(PLAYER)) == set(SERVED)
    assert all(r.authorised for r in api.log if r.host in (STATS, SKILL, UGC, ECONOMY, GAMECMS, PROFILE))
    secrets = (b"test-refresh-token", b"test-client-secret", b"test-access", SPARTAN.encode())
    for path in data_root.rglob("*"):
        if path.is_file():
            assert not any(secret in path.read_bytes() for secret in secrets), path


def test_sync_fetches_gamertags_of_new_humans_in_batches(api: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    without_films(api)
    monkeypatch.setattr("loader.sync.engine.PROFILE_BATCH", 10)
    assert halo(["sync", "--player", PLAYER]) == 0
    db = player_db_path(PLAYER)
    others = humans_of(*SERVED) - {OWNER_XUID}
    asked = [[int(x) for x in r.query["xuids"]] for r in api.requests(PROFILE, "/users")]
    assert all(len(batch) <= 10 for batch in asked) and len(asked) == -(-len(others) // 10)
    assert sorted(x for batch in asked for x in batch) == sorted(others)
    expected = {x: PROFILES.get(x, f"Player{x % 1000:03d}") for x in others}
    assert dict(q(db, "SELECT xuid, gamertag FROM raw.profile_users")) == expected
    # a second sync with two new matches asks only for the humans not known yet
    api.add(STATS, history_path(OWNER_XUID),
            history_handler([history_row(m, OWNER_ID) for m in NEW_MATCHES] + list(HISTORY["Results"])))
    api.clear_log()
    assert halo(["sync", "--player", PLAYER]) == 0
    new = {int(p["PlayerId"][5:-1]) for m in NEW_MATCHES for p in m["Players"] if p["PlayerId"].startswith("xuid(")}
    asked = sorted(int(x) for r in api.requests(PROFILE, "/users") for x in r.query["xuids"])
    assert asked == sorted(new - others - {OWNER_XUID}) and asked


# -- shared matches: what another tracked player's database holds is not asked of the API again ------------------

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


def test_ten_shared_demo_matches_cost_no_stats_or_film_call(api: ReplayServer, tmp_path: Path,
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
    assert halo(["load", "reference", str(demo.reference_dir)]) == 0
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
