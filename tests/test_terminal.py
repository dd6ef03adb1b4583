"""What a player sees in a terminal: `halo load` under a real pseudo-terminal, its progress bar read off the screen."""

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

from loader.demo import generate_player_matches

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
