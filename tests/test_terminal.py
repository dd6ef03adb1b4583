"""What a player sees in a terminal: `halo load` under a real pseudo-terminal, its progress bar read off the screen."""

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
    for heading in ("Top maps by win rate", "Top modes by win rate", "Career rank:"):
        assert heading in plain
