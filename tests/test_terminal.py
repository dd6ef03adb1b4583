"""What a player sees in a terminal: `halo load` under a real pseudo-terminal, its progress bar read off the screen;
`halo stats` on a demo player, its record, CSR, top maps and career rank equal to values summed from the JSON."""

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

from conftest import built_metadata

from loader.demo import generate_player_matches
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference
from loader.warehouse.build import build_players

GAMERTAG, XUID = "Terminal Chief", 2533274900000301


def run_in_pty(args: list[str], env: dict[str, str], timeout: float = 600) -> tuple[int, str]:
    """Run a command with stdin/stdout/stderr on a pseudo-terminal of 120 columns; everything it drew."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    screen = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            proc.kill()
            raise AssertionError(f"no output for {timeout} s:\n{screen.decode(errors='replace')}")
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    os.close(master)
    return proc.wait(timeout=60), screen.decode("utf-8", errors="replace")


def test_the_load_progress_bar_moves_before_the_batch_is_written(tmp_path: Path) -> None:
    """A load of a few hundred files is one batch (2,000 files): the bar shows files parsed per chunk of 100, so
    the screen holds counts between 0 and the total, in increasing order, before the summary."""
    manifest = generate_player_matches(tmp_path / "src", gamertag=GAMERTAG, xuid=XUID, n_matches=160, seed=5)
    folder = manifest.players[0][2]
    total = sum(1 for p in folder.rglob("*") if p.suffix in (".json", ".gzip"))
    assert 200 <= total < 400  # a bar is shown (200 files or more) and the load is parsed in this process
    env = dict(os.environ, HALO_DATA_DIR=str(tmp_path / "data"), TERM="xterm-256color")
    code, screen = run_in_pty([sys.executable, "-m", "loader.cli", "load", "matches", "--player", GAMERTAG,
                               "--xuid", str(XUID), str(folder)], env)
    assert code == 0, screen
    shown = [int(done) for done, of in re.findall(r"loading.*?(\d+)/(\d+)", screen) if int(of) == total]
    between = [done for done in shown if 0 < done < total]
    assert between, screen  # before: the bar sat at 0/total until the one batch was written
    assert between == sorted(between)
    assert "documents read" in screen and f"{total}" in screen.split("documents read", 1)[1].splitlines()[0]


def _experience(info: dict) -> str:
    """docs/definitions.md#experience, from a match document's MatchInfo (independent of the models)."""
    playlist = info.get("Playlist")
    if (info.get("GameplayInteraction") == 2 or info.get("PlaylistExperience") in (4, 6)
            or info.get("GameVariantCategory") in (1, 42)):
        return "pve"
    return "pvp_matchmade" if playlist else "pvp_custom"


def test_stats_screen_shows_the_pvp_record_from_the_json(tmp_path: Path) -> None:
    root = tmp_path / "data"
    manifest = generate_player_matches(tmp_path / "src", gamertag=GAMERTAG, xuid=XUID, n_matches=60, seed=9,
                                       with_reference=True)
    built_metadata(root, manifest.reference_dir)
    folder = manifest.players[0][2]
    load_matches(GAMERTAG, [folder], xuid=XUID, root=root)
    _, (built,) = build_players([GAMERTAG], root)
    assert built.success, built.errors

    # the owner's record per experience, summed from the match documents with plain json
    record: dict[str, list[int]] = {}
    for path in folder.glob("*.json"):
        doc = json.loads(path.read_bytes())
        if not (isinstance(doc, dict) and "MatchInfo" in doc and "Players" in doc):
            continue
        me = next(p for p in doc["Players"] if p["PlayerId"] == f"xuid({XUID})")
        core = [entry["Stats"]["CoreStats"] for entry in me["PlayerTeamStats"]]
        row = record.setdefault(_experience(doc["MatchInfo"]), [0, 0, 0, 0])
        row[0] += 1
        row[1] += me["Outcome"] == 2
        row[2] += sum(c["Kills"] for c in core)
        row[3] += sum(c["Deaths"] for c in core)
    matches, wins, kills, deaths = record["pvp_matchmade"]

    code, screen = run_in_pty([sys.executable, "-m", "loader.cli", "stats", "--player", GAMERTAG],
                              dict(os.environ, HALO_DATA_DIR=str(root), TERM="xterm-256color"))
    assert code == 0, screen
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    [line] = [line for line in plain.splitlines() if "PvP matchmade" in line and "│" in line]
    cells = [cell.strip() for cell in line.strip("│ ").split("│")]
    assert cells[:2] == ["PvP matchmade", str(matches)]
    assert cells[2].split("-")[0] == str(wins)
    assert cells[4] == f"{kills / deaths:.2f}"
    if "pve" in record:  # games against AI are a row of their own, never in the PvP row
        pve = [line for line in plain.splitlines() if "PvE (against AI)" in line]
        assert pve and pve[0].split("│")[2].strip() == str(record["pve"][0])
    reference = manifest.reference_dir
    assert table_rows(plain, "CSR") == expected_csr(folder, reference)
    assert table_rows(plain, "Top maps by win rate") == expected_top_maps(folder, reference)
    assert "Top modes by win rate" in plain
    [mates] = [line for line in plain.splitlines() if line.startswith("Best teammates")]
    assert mates == expected_teammates(folder)
    [career] = [line for line in plain.splitlines() if line.startswith("Career rank:")]
    assert career == expected_career(folder, reference)
    # this player's data has no film: nobody killed anybody as far as the marts know, and the screen says so
    # (it named an opponent who "killed you 0 times" before)
    assert "killed you 0 times" not in plain and "Nemesis:" not in plain
    assert "Nemesis, favourite victim: none known (who killed whom comes from the films' highlight events" in plain


def table_rows(plain: str, title: str) -> list[list[str]]:
    """The body rows (cells stripped) of the rich table whose title line starts with `title`."""
    lines = plain.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    body = []
    for line in lines[start + 1:]:
        if line.startswith("└"):
            break
        if line.startswith("│"):
            body.append([cell.strip() for cell in line.strip().strip("│").split("│")])
    return body


def owner_matches(folder: Path) -> list[tuple[dict, dict]]:
    """(match document, the owner's player entry) of every match document of the folder, with plain json."""
    found = []
    for path in folder.glob("*.json"):
        doc = json.loads(path.read_bytes())
        if isinstance(doc, dict) and "MatchInfo" in doc and "Players" in doc:
            found.append((doc, next(p for p in doc["Players"] if p["PlayerId"] == f"xuid({XUID})")))
    return found


def asset_names(reference: Path, prefix: str) -> dict[str, str]:
    docs = (json.loads(path.read_bytes()) for path in reference.glob(f"{prefix}_*.json"))
    return {d["AssetId"]: d["PublicName"] for d in docs}


def csr_tier(csr: dict) -> str:
    """docs/definitions.md#csr_tier: the tier and the 1-based sub-tier; Onyx alone; Unranked while placing."""
    if csr["MeasurementMatchesRemaining"] > 0:
        return "Unranked"
    return "Onyx" if csr["Tier"] == "Onyx" else f"{csr['Tier']} {csr['SubTier'] + 1}"


def expected_csr(folder: Path, reference: Path) -> list[list[str]]:
    """Per ranked playlist (its name starts with `Ranked`, docs/definitions.md#is_ranked): the post-match CSR and
    tier of the latest match, and the highest post-match CSR of the latest match's season, with its tier."""
    playlists = asset_names(reference, "playlist")
    by_playlist: dict[str, list[tuple]] = {}
    for doc, _ in owner_matches(folder):
        skill = folder / f"skill_{doc['MatchId']}.json"
        playlist = (doc["MatchInfo"].get("Playlist") or {}).get("AssetId")
        if not skill.exists() or not playlists.get(playlist, "").startswith("Ranked"):
            continue
        mine = next(v for v in json.loads(skill.read_bytes())["Value"] if v["Id"] == f"xuid({XUID})")
        post = mine["Result"]["RankRecap"]["PostMatchCsr"]
        by_playlist.setdefault(playlists[playlist], []).append(
            (doc["MatchInfo"]["StartTime"], doc["MatchInfo"]["SeasonId"], post["Value"], csr_tier(post)))
    rows = []
    for name, matches in sorted(by_playlist.items()):
        _, season, csr, tier = max(matches)
        best = max((value, t) for _, s, value, t in matches if s == season)
        rows.append([name, str(csr), tier, str(best[0]), best[1]])
    assert rows, "no ranked match with a skill document: the CSR table would not be tested"
    return rows


def expected_top_maps(folder: Path, reference: Path) -> list[list[str]]:
    """PvP matchmade maps of 3+ matches by win rate, then matches, then name (top 5), with K/D of summed kills."""
    maps = asset_names(reference, "map")
    per_map: dict[str, list[int]] = {}
    for doc, me in owner_matches(folder):
        if _experience(doc["MatchInfo"]) != "pvp_matchmade":
            continue
        row = per_map.setdefault(maps[doc["MatchInfo"]["MapVariant"]["AssetId"]], [0, 0, 0, 0])
        row[0] += 1
        row[1] += me["Outcome"] == 2
        row[2] += sum(e["Stats"]["CoreStats"]["Kills"] for e in me["PlayerTeamStats"])
        row[3] += sum(e["Stats"]["CoreStats"]["Deaths"] for e in me["PlayerTeamStats"])
    ranked = sorted(((wins / n, n, name, kills / deaths if deaths else kills) for name, (n, wins, kills, deaths)
                     in per_map.items() if n >= 3), key=lambda r: (-r[0], -r[1], r[2]))[:5]
    assert ranked, "no map of 3+ matches: the table would not be tested"
    return [[name, str(n), f"{rate:.0%}", f"{kd:.2f}"] for rate, n, name, kd in ranked]


def expected_teammates(folder: Path) -> str:
    """Humans on the owner's team (same LastTeamId) in PvP matchmade matches, 3+ matches together: the top 3 by win
    rate together, then matches together, then XUID (no gamertag without a film or profile: shown as xuid(...))."""
    together: dict[int, list[int]] = {}
    for doc, me in owner_matches(folder):
        if _experience(doc["MatchInfo"]) != "pvp_matchmade":
            continue
        for player in doc["Players"]:
            if player["PlayerId"].startswith("xuid(") and player is not me and player["LastTeamId"] == me["LastTeamId"]:
                row = together.setdefault(int(player["PlayerId"][5:-1]), [0, 0])
                row[0] += 1
                row[1] += me["Outcome"] == 2
    best = sorted(((wins / n, n, xuid) for xuid, (n, wins) in together.items() if n >= 3),
                  key=lambda r: (-r[0], -r[1], r[2]))[:3]
    assert best, "no teammate of 3+ matches: the line would not be tested"
    return "Best teammates (win rate together, 3+ matches): " + ", ".join(
        f"xuid({xuid}) ({rate:.0%} of {n})" for rate, n, xuid in best)


def expected_career(folder: Path, reference: Path) -> str:
    """The newest career-rank snapshot, named from the reward track; XP = the ranks below it plus the progress in it,
    Hero = the XP of every rank below the last."""
    snapshots = [json.loads(p.read_bytes()) for p in folder.glob("career_rank_*.json")]
    progress = max(snapshots, key=lambda d: d["ObservedAt"])["CurrentProgress"]
    ranks = json.loads((reference / "career_reward_track.json").read_bytes())["Ranks"]
    rank = next(r for r in ranks if r["Rank"] == progress["Rank"])
    named = " ".join(v for v in (rank["RankTitle"]["value"], rank["RankSubTitle"]["value"], rank["RankTier"]["value"])
                     if v)
    xp = sum(r["XpRequiredForRank"] for r in ranks if r["Rank"] < progress["Rank"]) + progress["PartialProgress"]
    hero = sum(r["XpRequiredForRank"] for r in ranks if r["Rank"] < ranks[-1]["Rank"])
    return f"Career rank: {progress['Rank']} ({named}), {xp:,} of {hero:,} XP to Hero ({xp / hero:.0%})"


def test_build_of_several_players_shows_a_bar_and_a_line_per_player(tmp_path: Path) -> None:
    """`halo build --all` of two players on a terminal: the metadata's line first (it is built before the players),
    a bar counting players (0/2 or 1/2 while building), one `built <player>: ok` line per player as each finishes,
    then the table."""
    root = tmp_path / "data"
    players = [("Bar Chief", 2533274900000311), ("Bar Scout", 2533274900000312)]
    for index, (gamertag, xuid) in enumerate(players):
        manifest = generate_player_matches(tmp_path / f"src{index}", gamertag=gamertag, xuid=xuid, n_matches=15,
                                           seed=21 + index, with_reference=index == 0)
        if index == 0:
            load_reference([manifest.reference_dir], root=root)  # loaded, not built: this build builds it first
        load_matches(gamertag, [manifest.players[0][2]], xuid=xuid, root=root)
    code, screen = run_in_pty([sys.executable, "-m", "loader.cli", "build", "--all"],
                              dict(os.environ, HALO_DATA_DIR=str(root), TERM="xterm-256color"))
    assert code == 0, screen
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    counts = {int(done) for done in re.findall(r"building\s.*?(\d)/2", plain)}
    assert counts and counts <= {0, 1, 2}, plain
    assert counts & {0, 1}, plain  # drawn while a player was still building
    finished = re.findall(r"built (Bar \w+): ok \(full build\)", plain)
    assert sorted(finished) == sorted(g for g, _ in players), plain
    # the metadata is built before any player, and says so first (it was printed after the players)
    assert plain.index("built metadata: ok (full build)") < plain.index("built Bar "), plain
    table = plain[plain.rindex("player "):]
    assert all(re.search(rf"{g}\s+15\s", table) for g, _ in players), table
