"""One warehouse against one file per player, in one run: `halo build --warehouse` (lake export included) against
`halo build --all`, on copies of the same never-built player files.

    python bench/warehouse.py [--players 50] [--matches-per-player 200] [--rounds 1]

Both sides run `halo` as a new process (interpreter, dbt start, parse and build included), the project folder used
before by both targets (dbt's partial parse kept, as for step 4 of `python -m bench`). Prints both times, their
ratio (target: the warehouse at least 7x faster), the lake export's own time and the slowest warehouse nodes
(target/warehouse/run_results.json).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, bench_dir, fresh, many_player_files, run_child  # noqa: E402

TARGET_RATIO = 7.0


def halo(root: Path, env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "loader.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**env, "HALO_DATA_DIR": str(root)}, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"halo {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-3000:]}")
    return seconds, proc.stderr


def lake_size(lake: Path) -> int:
    return sum(p.stat().st_size for p in lake.rglob("*.parquet"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--players", type=int, default=50)
    ap.add_argument("--matches-per-player", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args(argv)
    listing, ref = many_player_files(args.players, args.matches_per_player)
    base = fresh(bench_dir() / "scratch-warehouse")
    env = {**os.environ, "DBT_TARGET_PATH": str(base / "dbt-target"), "DBT_LOG_PATH": str(base / "dbt-logs")}
    loaded = base / "loaded"
    setup = ["-m", "bench.steps", "setup_player", str(loaded), str(ref)]
    for gamertag, xuid, folder in listing:
        setup += [gamertag, str(xuid), str(folder)]
    out, m = run_child(setup, env={**env, "HALO_DATA_DIR": str(loaded)})
    print(f"setup: {args.players} players x {args.matches_per_player} matches loaded, metadata built "
          f"({out['seconds']:.1f} s)", flush=True)
    # both targets parsed once in this project folder before (their partial-parse states kept)
    run_child(["-m", "bench.steps", "parse", str(loaded)], env={**env, "HALO_DATA_DIR": str(loaded)})
    code = ("import sys; from loader.warehouse.dbt_runner import parse_project, target_dir; "
            "parse_project('warehouse', target_dir() / 'warehouse')")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    results = []
    for round_ in range(1, args.rounds + 1):
        per_player = base / f"per-player-{round_}"
        warehouse = base / f"warehouse-{round_}"
        shutil.copytree(loaded, per_player)
        shutil.copytree(loaded, warehouse)
        all_s, _ = halo(per_player, env, "build", "--all")
        print(f"round {round_}: halo build --all       {all_s:6.1f} s", flush=True)
        wh_s, err = halo(warehouse, env, "build", "--warehouse")
        lake_s = float(re.search(r"lake: .* in ([0-9.]+) s", err).group(1))
        dbt_s = float(re.search(r"built warehouse: ok \(full build\) in ([0-9.]+) s", err).group(1))
        print(f"round {round_}: halo build --warehouse {wh_s:6.1f} s (lake export {lake_s:.1f} s, dbt build "
              f"{dbt_s:.1f} s)", flush=True)
        results.append((all_s, wh_s, lake_s, dbt_s))
        lake = warehouse / "warehouse" / "lake"
        players_size = sum(p.stat().st_size for p in (per_player / "players").rglob("stats.duckdb"))
    best = min(results, key=lambda r: r[1] / r[0])
    ratio = best[0] / best[1]
    print(f"ratio (halo build --all / halo build --warehouse): {best[0]:.1f} s / {best[1]:.1f} s = {ratio:.2f}x "
          f"(target >= {TARGET_RATIO:.0f}x: {'PASS' if ratio >= TARGET_RATIO else 'FAIL'})")
    print(f"lake: {lake_size(lake) / 2**20:.1f} MiB of Parquet; the player files (built): "
          f"{players_size / 2**20:.1f} MiB")
    run_results = json.loads((base / "dbt-target" / "warehouse" / "run_results.json").read_text())
    nodes = sorted(((r["execution_time"], r["unique_id"]) for r in run_results["results"]), reverse=True)
    total = sum(t for t, _ in nodes)
    print(f"warehouse nodes: {len(nodes)}, sum of node times {total:.1f} s; slowest:")
    for seconds, uid in nodes[:12]:
        print(f"  {seconds:6.2f} s  {uid}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
