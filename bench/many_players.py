"""Many players: N players built in-process (project parsed once) vs one `dbt build` process per player.

    python bench/many_players.py --players 20 [--matches-per-player 200]

Prints the per-player time of both and their ratio (the same as step 4 of `python -m bench`).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.__main__ import main  # noqa: E402

if __name__ == "__main__":
    args = sys.argv[1:]
    if not any(a.startswith("--per-process-sample") for a in args):
        args += ["--per-process-sample", "0"]  # the same players both ways: every one also gets its own process
    raise SystemExit(main(["--steps", "many", *args]))
