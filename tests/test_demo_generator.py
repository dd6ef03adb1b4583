"""The demo data generator: loads with zero rejects, covers the real documents' fields, is deterministic,
consistent (KDA, accuracy, kill/death pairing, shared matches, CSR, sessions) and fast enough."""

import collections
import datetime as dt
import json
import re
import time
from pathlib import Path

import pytest
from conftest import MATCH_STATS_FILES, REFERENCE, RESPONSES, read_json

from loader.demo import DemoManifest, generate_demo, generate_player_matches
from loader.ingest.load_matches import load_matches

MATCH_FILE = re.compile(r"^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}\.json$")
PLAYERS = 3
MATCHES_PER_PLAYER = 150


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    return generate_demo(tmp_path_factory.mktemp("demo"), players=PLAYERS, matches_per_player=MATCHES_PER_PLAYER)


def key_paths(node, prefix: str = "", out: set[str] | None = None) -> set[str]:
    """Every key path of a JSON document, list indices collapsed: `Players[].PlayerTeamStats[].TeamId`."""
    out = set() if out is None else out
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            key_paths(value, path, out)
    elif isinstance(node, list):
        for item in node:
            key_paths(item, prefix + "[]", out)
    return out


def match_docs(demo: DemoManifest) -> dict[str, dict]:
    """Every generated match-stats document once, by match id."""
    docs = {}
    for _, _, folder in demo.players:
        for path in folder.iterdir():
            if MATCH_FILE.match(path.name) and path.stem not in docs:
                docs[path.stem] = json.loads(path.read_bytes())
    return docs


def seconds(text: str) -> float:
    found = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", text)
    assert found, text
    h, m, s = found.groups()
    return int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def truncated_kda(kills: int, deaths: int, assists: int) -> float:
    n = (3 * kills + assists - 3 * deaths) * 100
    return (abs(n) // 3) * (1 if n >= 0 else -1) / 100


# ------------------------------------------------------------------ loading


def test_manifest(demo: DemoManifest) -> None:
    assert [p[0] for p in demo.players] == ["Demo Chief", "Demo Arbiter", "Demo Cortana"]
    assert all(2533274900000000 <= xuid <= 2533274900000999 for _, xuid, _ in demo.players)
    assert demo.match_count == {name: MATCHES_PER_PLAYER for name, _, _ in demo.players}
    for name, _, folder in demo.players:
        assert folder == demo.out_dir / "players" / name
        assert sum(1 for p in folder.iterdir() if MATCH_FILE.match(p.name)) == MATCHES_PER_PLAYER
    assert demo.reference_dir == demo.out_dir / "reference"


def test_generated_matches_load_with_zero_rejects(demo: DemoManifest, tmp_path: Path) -> None:
    for gamertag, xuid, folder in demo.players:
        result = load_matches(gamertag, [folder], xuid=xuid, root=tmp_path / "data")
        assert result.rejections == []
        assert result.counts.rejected == 0
        kinds = result.counts.loaded_by_kind
        assert kinds["match_stats"] == MATCHES_PER_PLAYER
        assert kinds["match_skill"] > 0 and kinds["highlight_events"] > 0
        assert kinds["career_rank"] >= 1 and kinds["match_history"] >= 1


def test_generated_reference_loads_with_zero_rejects(demo: DemoManifest, tmp_path: Path) -> None:
    load_reference = pytest.importorskip("loader.ingest.load_reference").load_reference
    result = load_reference([demo.reference_dir], root=tmp_path / "data")
    assert result.rejections == []
    assert result.counts.rejected == 0
    kinds = result.counts.loaded_by_kind
    for kind in ("medal_metadata", "career_reward_track", "season_calendar", "csr_season_calendar",
                 "playlist_mode_translations", "map", "playlist", "map_mode_pair", "game_variant"):
        assert kinds.get(kind, 0) >= 1, kind
    assert kinds["medal_names"] == 2


# ------------------------------------------------------------------ field coverage


def test_every_real_match_stats_field_appears_in_generated_documents_of_the_same_mode(demo: DemoManifest) -> None:
    generated: dict[int, set[str]] = collections.defaultdict(set)
    for doc in match_docs(demo).values():
        key_paths(doc, out=generated[doc["MatchInfo"]["GameVariantCategory"]])
    for fixture in MATCH_STATS_FILES:
        real = read_json(fixture)
        category = real["MatchInfo"]["GameVariantCategory"]
        assert category in generated, f"{fixture.name}: no generated match of category {category}"
        missing = key_paths(real) - generated[category]
        assert not missing, f"{fixture.name} (category {category}): {sorted(missing)}"


REFERENCE_COUNTERPARTS = {
    RESPONSES / "get_medal_metadata.json": "medal_metadata.json",
    RESPONSES / "get_map.json": "map_[0-9a-f]*.json",
    RESPONSES / "get_playlist.json": "playlist_*.json",
    RESPONSES / "get_map_mode_pair.json": "map_mode_pair_*.json",
    RESPONSES / "get_ugc_game_variant.json": "game_variant_*.json",
    RESPONSES / "get_career_reward_track.json": "career_reward_track.json",
    RESPONSES / "get_season_calendar.json": "season_calendar.json",
    RESPONSES / "get_csr_season_calendar.json": "csr_season_calendar.json",
    REFERENCE / "Playlist_modes_translations.json": "Playlist_modes_translations.json",
    REFERENCE / "medals_fr.json": "medals_fr.json",
    REFERENCE / "medals_en.json": "medals_en.json",
}


@pytest.mark.parametrize("fixture", list(REFERENCE_COUNTERPARTS), ids=lambda p: p.name)
def test_every_real_reference_field_appears_in_each_generated_counterpart(demo: DemoManifest, fixture: Path) -> None:
    real = key_paths(read_json(fixture))
    files = sorted(demo.reference_dir.glob(REFERENCE_COUNTERPARTS[fixture]))
    assert files
    for path in files:
        missing = real - key_paths(json.loads(path.read_bytes()))
        assert not missing, f"{path.name}: {sorted(missing)}"


def test_reference_content(demo: DemoManifest) -> None:
    track = json.loads((demo.reference_dir / "career_reward_track.json").read_bytes())
    assert [r["Rank"] for r in track["Ranks"]] == list(range(1, 273))
    names = {json.loads(p.read_bytes())["PublicName"] for p in demo.reference_dir.glob("map_????????-*.json")}
    assert {"Aquarius", "Live Fire", "Recharge", "Streets", "Bazaar", "Behemoth", "Fragmentation",
            "Highpower"} <= names
    playlists = {json.loads(p.read_bytes())["PublicName"] for p in demo.reference_dir.glob("playlist_*.json")}
    assert {"Ranked Arena", "Quick Play", "Big Team Battle", "Team Slayer"} <= playlists
    real_ids = {m["nameId"] for m in read_json(RESPONSES / "get_medal_metadata.json")["medals"]}
    ours = {m["nameId"] for m in json.loads((demo.reference_dir / "medal_metadata.json").read_bytes())["medals"]}
    assert ours == real_ids


# ------------------------------------------------------------------ consistency


def test_kda_accuracy_and_team_consistency(demo: DemoManifest) -> None:
    docs = match_docs(demo)
    assert len(docs) < PLAYERS * MATCHES_PER_PLAYER  # some matches are shared by friends
    categories = collections.Counter()
    for doc in docs.values():
        info = doc["MatchInfo"]
        category = info["GameVariantCategory"]
        categories[category] += 1
        span = (when(info["EndTime"]) - when(info["StartTime"])).total_seconds()
        assert 0 <= span - seconds(info["Duration"]) <= 31
        rows = [(p["PlayerTeamStats"][0]["Stats"], p) for p in doc["Players"]]
        rows += [(t["Stats"], t) for t in doc["Teams"]]
        for stats, _ in rows:
            core = stats["CoreStats"]
            assert core["KDA"] == truncated_kda(core["Kills"], core["Deaths"], core["Assists"])
            assert abs(core["KDA"] - (core["Kills"] + core["Assists"] / 3 - core["Deaths"])) < 0.01
            expected_acc = (core["ShotsHit"] * 10000 // core["ShotsFired"]) / 100 if core["ShotsFired"] else 0.0
            assert core["Accuracy"] == expected_acc
            assert core["PersonalScore"] == sum(s["TotalPersonalScoreAwarded"] for s in core["PersonalScores"])
        for p in doc["Players"]:
            core = p["PlayerTeamStats"][0]["Stats"]["CoreStats"]
            if p["PlayerType"] == 1 and category != 42:
                assert 0 <= core["Kills"] <= 40 and 30 <= core["Accuracy"] <= 65
            part = p["ParticipationInfo"]
            if part["LeftInProgress"]:
                assert p["Outcome"] == 4 and not part["PresentAtCompletion"] and part["LastLeaveTime"]
            if p["PlayerType"] == 2:
                assert p["PlayerId"].startswith("bid(") and p["BotAttributes"]["Difficulty"] >= 0
        if doc["Teams"]:
            winners = [t for t in doc["Teams"] if t["Outcome"] == 2]
            assert len(winners) == 1 and winners[0]["Rank"] == 1
            for team in doc["Teams"]:
                members = [p for p in doc["Players"] if p["LastTeamId"] == team["TeamId"]]
                if category in (6, 15, 18):  # team score is the players' sum (as in the real slayer/ctf/oddball)
                    assert team["Stats"]["CoreStats"]["Score"] == sum(
                        p["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Score"] for p in members)
                for p in members:
                    if p["Outcome"] != 4:
                        assert p["Outcome"] == team["Outcome"]
    assert {6, 11, 13, 15, 18, 22, 42} <= set(categories)
    assert any(p["PlayerType"] == 2 for d in docs.values() for p in d["Players"])
    assert any(d["MatchInfo"]["LifecycleMode"] == 1 for d in docs.values())
    assert any(len(d["Players"]) >= 24 for d in docs.values())


def test_highlight_events_pair_kills_with_deaths(demo: DemoManifest) -> None:
    docs = match_docs(demo)
    films = 0
    for _, _, folder in demo.players:
        for path in folder.glob("*.highlights.json"):
            films += 1
            film = json.loads(path.read_bytes())
            stats = docs[film["MatchId"]]
            deaths = collections.Counter((e["TimeMs"]) for e in film["Events"] if e["EventType"] == "death")
            by_player = collections.Counter((e["Xuid"], e["EventType"]) for e in film["Events"])
            for event in film["Events"]:
                if event["EventType"] == "kill":
                    assert deaths[event["TimeMs"]] >= 1, event
                    victims = [e for e in film["Events"] if e["EventType"] == "death"
                               and e["TimeMs"] == event["TimeMs"] and e["Xuid"] != event["Xuid"]]
                    assert victims, event
            for p in stats["Players"]:
                xuid = int(p["PlayerId"][5:-1])
                core = p["PlayerTeamStats"][0]["Stats"]["CoreStats"]
                assert by_player[(xuid, "kill")] == core["Kills"]
                assert by_player[(xuid, "death")] == core["Deaths"]
            assert any(e["EventType"] == "medal" and e["MedalName"] for e in film["Events"])
    assert films > 0


def test_friends_share_identical_match_files(demo: DemoManifest) -> None:
    seen: dict[str, list[Path]] = collections.defaultdict(list)
    for _, _, folder in demo.players:
        for path in folder.iterdir():
            if MATCH_FILE.match(path.name) or path.name.startswith("skill_") or path.name.endswith(".highlights.json"):
                seen[path.name].append(path)
    shared = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert any(MATCH_FILE.match(name) for name in shared)
    for paths in shared.values():
        assert len({p.read_bytes() for p in paths}) == 1
    for _, xuid, folder in demo.players:
        for path in folder.iterdir():
            if MATCH_FILE.match(path.name):
                assert f'"xuid({xuid})"'.encode() in path.read_bytes()


def test_csr_moves_continuously_and_matches_come_in_sessions(demo: DemoManifest) -> None:
    docs = match_docs(demo)
    for _, xuid, folder in demo.players:
        mine = sorted((docs[p.stem] for p in folder.iterdir() if MATCH_FILE.match(p.name)),
                      key=lambda d: d["MatchInfo"]["StartTime"])
        gaps = [(when(b["MatchInfo"]["StartTime"]) - when(a["MatchInfo"]["EndTime"])).total_seconds() / 60
                for a, b in zip(mine, mine[1:])]
        assert min(gaps) >= 1
        assert sum(g <= 5.5 for g in gaps) > len(gaps) / 2  # most matches follow one another within minutes
        assert sum(g > 120 for g in gaps) >= 5  # and sessions are hours or days apart
        assert not [g for g in gaps if 5.5 < g <= 120]
        csr = []
        for doc in mine:
            skill_file = folder / f"skill_{doc['MatchId']}.json"
            if skill_file.exists():
                for value in json.loads(skill_file.read_bytes())["Value"]:
                    recap = value["Result"]["RankRecap"]
                    if value["Id"] == f"xuid({xuid})" and recap:
                        csr.append((recap["PreMatchCsr"]["Value"], recap["PostMatchCsr"]["Value"]))
        assert len(csr) > 10
        assert all(post == nxt for (_, post), (nxt, _) in zip(csr, csr[1:]))
        assert len({pre for pre, _ in csr}) > 5


def test_career_snapshots_progress_over_time(demo: DemoManifest) -> None:
    for _, _, folder in demo.players:
        snaps = sorted((json.loads(p.read_bytes()) for p in folder.glob("career_rank_*.json")),
                       key=lambda d: d["ObservedAt"])
        assert snaps
        ranks = [(s["CurrentProgress"]["Rank"], s["CurrentProgress"]["PartialProgress"]) for s in snaps]
        assert ranks == sorted(ranks)


# ------------------------------------------------------------------ determinism and scale


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_and_different_seed_differs(tmp_path: Path) -> None:
    generate_demo(tmp_path / "a", players=2, matches_per_player=25, seed=11)
    generate_demo(tmp_path / "b", players=2, matches_per_player=25, seed=11)
    generate_demo(tmp_path / "c", players=2, matches_per_player=25, seed=12)
    a, b, c = _tree(tmp_path / "a"), _tree(tmp_path / "b"), _tree(tmp_path / "c")
    assert a == b
    players_a = {k: v for k, v in a.items() if k.startswith("players")}
    players_c = {k: v for k, v in c.items() if k.startswith("players")}
    assert players_a != players_c


@pytest.mark.parametrize("size, n", [(8, 1000), (24, 100)])
def test_one_player_many_matches(tmp_path: Path, size: int, n: int) -> None:
    started = time.perf_counter()
    manifest = generate_player_matches(tmp_path, "Bench Player", 2533274900000999, n_matches=n, seed=3,
                                       n_players_per_match=size, stats_only=True)
    elapsed = time.perf_counter() - started
    print(f"\ngenerated {n} matches of {size} players in {elapsed:.2f}s")
    folder = manifest.players[0][2]
    files = sorted(folder.iterdir())
    assert len(files) == n and manifest.match_count == {"Bench Player": n}
    for path in files[:50]:
        assert len(json.loads(path.read_bytes())["Players"]) == size
