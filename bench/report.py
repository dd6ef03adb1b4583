"""`halo report` against `halo build` of the same player, in one run: is the page written faster than a full build?

    python bench/report.py [--matches 10000] [--rounds 2]

One player with N matches (the natural mix: match stats, skill documents for CSR, films for a tenth) is generated,
loaded and built once (metadata and a first build). Then, round by round, as new processes (interpreter start
included, as a player runs them): `halo build --player … --full` (every model rebuilt and every test run), and
`halo report --player …` cold (the Vega bundle cache removed: vl-convert bundles the script again) and warm (the
bundle cached in HALO_DATA_DIR/warehouse/report-cache). The best round of each is printed with the ratios
report/build and the page's size (target: under 5 MB). No pass/fail assertion: read the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `python bench/report.py` from anywhere: the loader imported in main()
GAMERTAG, XUID = "Bench Chief", 2533274900000901
PAGE_LIMIT = 5_000_000


def halo(root: Path, *args: str) -> float:
    env = dict(os.environ, HALO_DATA_DIR=str(root), HALO_BUILD_WORKERS="1")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "loader.cli", *args], env=env, capture_output=True, text=True,
                          cwd=ROOT)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"halo {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from loader.core.paths import metadata_db_path, player_dir
    from loader.demo import generate_player_matches
    from loader.ingest.load_matches import load_matches
    from loader.ingest.load_reference import load_reference
    from loader.report.page import BUNDLE_CACHE, REPORT_NAME

    work = Path(tempfile.mkdtemp(prefix="halo-bench-report-"))
    try:
        started = time.perf_counter()
        source = generate_player_matches(work / "src", gamertag=GAMERTAG, xuid=XUID, n_matches=args.matches, seed=3,
                                         film_share=0.1, with_reference=True)
        root = work / "data"
        load_reference([source.reference_dir], root=root)
        load_matches(GAMERTAG, [source.players[0][2]], xuid=XUID, root=root)
        first = halo(root, "build", "--player", GAMERTAG)
        print(f"{args.matches} matches generated, loaded and built (first build {first:.1f} s) in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        cache = metadata_db_path(root).parent / BUNDLE_CACHE
        page = player_dir(GAMERTAG, root) / REPORT_NAME
        times: dict[str, list[float]] = {"build": [], "cold": [], "warm": []}
        for round_ in range(args.rounds):
            times["build"].append(halo(root, "build", "--player", GAMERTAG, "--full"))
            shutil.rmtree(cache, ignore_errors=True)
            times["cold"].append(halo(root, "report", "--player", GAMERTAG))
            times["warm"].append(halo(root, "report", "--player", GAMERTAG))
            print(f"round {round_ + 1}: full build {times['build'][-1]:.1f} s, report cold {times['cold'][-1]:.1f} s,"
                  f" warm {times['warm'][-1]:.1f} s", flush=True)
        build, cold, warm = (min(times[k]) for k in ("build", "cold", "warm"))
        size = page.stat().st_size
        print(f"\nbest of {args.rounds}: halo build --full {build:.1f} s; halo report {warm:.1f} s "
              f"(bundle cached), {cold:.1f} s (first report of an installation)")
        print(f"report/build: {warm / build:.2f} (cached bundle), {cold / build:.2f} (cold)  -> target < 1: "
              f"{'pass' if warm < build else 'FAIL'} (cached), {'pass' if cold < build else 'FAIL'} (cold)")
        print(f"page: {size / 1e6:.2f} MB -> target < 5 MB: {'pass' if size < PAGE_LIMIT else 'FAIL'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
