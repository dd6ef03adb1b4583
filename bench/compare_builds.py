"""Old marts against new marts in one run: the full build of one player's 10,000 matches and the update after
25 more, each side from its own checkout of the project (`git worktree` of a commit), on copies of the same data.

    python bench/compare_builds.py --old <commit> [--matches 10000] [--rounds 2]

Both sides load with this checkout's loader (same raw layer), then build with their own `loader` and dbt project
(`python -m loader.cli build`, PYTHONPATH set to the side's checkout; each build is one `halo build` process, its
wall time includes dbt's start). Sides alternate, round by round, so drift of a shared machine hits both alike;
the best round of each is reported, with the ratios new/old and update/full. No pass/fail: read the ratios.
`first` is each round's first build of its copy (the metadata build, dbt's parse from scratch, and a full player
build: the new side runs its data tests as dbt nodes there and keeps their SQL and the parse for the builds after).
Each build's CPU seconds (user + system of the `halo build` process and its children, from getrusage) are printed
beside its wall seconds, best of the rounds too: on a shared machine they vary less than wall time. The load
average is printed at the start and after each build.
With `--nodes`, the full builds' per-node times (dbt's run_results.json, of each side's best round) are printed
side by side: node counts and summed execution times by kind, then the nodes whose time differs most.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `python bench/compare_builds.py` from anywhere: the loader imported in main()
GAMERTAG, XUID = "Bench Chief", 2533274900000901


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def halo_build(checkout: Path, root: Path, *flags: str) -> tuple[float, float]:
    """One `halo build` process: its wall seconds and its CPU seconds (user + system, its own and its children's)."""
    env = dict(os.environ, HALO_DATA_DIR=str(root), PYTHONPATH=str(checkout), HALO_BUILD_WORKERS="1",
               DBT_TARGET_PATH=str(root / "target"), DBT_LOG_PATH=str(root / "logs"))
    cpu = children_cpu()
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "loader.cli", "build", "--player", GAMERTAG, *flags], env=env,
                          capture_output=True, text=True, cwd=checkout)
    seconds = time.perf_counter() - started
    cpu = children_cpu() - cpu
    if proc.returncode != 0:
        raise RuntimeError(f"build in {checkout} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, cpu


def node_times(root: Path) -> dict[str, float]:
    """unique_id -> execution time (s) of the last build in `root` (dbt's run_results.json)."""
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["execution_time"] for r in results}


def print_nodes(old: dict[str, float], new: dict[str, float], top: int = 25) -> None:
    """Per kind (model, test, ...): node count and summed execution time, old beside new; then the nodes whose
    time differs most (a node only one side has counts as 0 on the other)."""
    def kind(uid: str) -> str:
        return uid.split(".")[0]

    print("nodes of the full builds (dbt execution times, summed over threads):")
    for name in sorted({kind(u) for u in (*old, *new)}):
        o = [t for u, t in old.items() if kind(u) == name]
        n = [t for u, t in new.items() if kind(u) == name]
        print(f"  {name:10} old {len(o):3} nodes {sum(o):6.2f} s   new {len(n):3} nodes {sum(n):6.2f} s")
    diffs = sorted(set(old) | set(new), key=lambda u: -abs(new.get(u, 0.0) - old.get(u, 0.0)))
    for uid in diffs[:top]:
        o, n = old.get(uid), new.get(uid)
        print(f"  {'-' if o is None else f'{o:.2f}':>6} {'-' if n is None else f'{n:.2f}':>6}  {uid}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="commit of the old marts")
    parser.add_argument("--matches", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--nodes", action="store_true", help="print the full builds' per-node times side by side")
    args = parser.parse_args()
    from loader.demo import generate_player_matches
    from loader.ingest.load_matches import load_matches
    from loader.ingest.load_reference import load_reference

    work = Path(tempfile.mkdtemp(prefix="halo-compare-"))
    old = work / "old-checkout"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.old], check=True,
                   capture_output=True)
    try:
        source = generate_player_matches(work / "src", gamertag=GAMERTAG, xuid=XUID, n_matches=args.matches + 25,
                                         seed=3, stats_only=True, with_reference=True)
        # the 25 newest matches are the update (a backfill of older ones would rewrite later matches too)
        files = sorted(source.players[0][2].glob("*.json"),
                       key=lambda p: json.loads(p.read_bytes())["MatchInfo"]["StartTime"])
        base, extra = files[:-25], files[-25:]
        stage = work / "stage"
        for folder, chosen in (("base", base), ("extra", extra)):
            (stage / folder).mkdir(parents=True)
            for path in chosen:
                shutil.copy2(path, stage / folder / path.name)
        template = work / "template"
        load_reference([source.reference_dir], root=template)
        load_matches(GAMERTAG, [stage / "base"], xuid=XUID, root=template)
        print(f"{len(base)} + {len(extra)} match documents loaded; old = {args.old[:12]}, new = this checkout",
              flush=True)
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}  # (side, kind) -> [(wall, cpu)] per round
        nodes: dict[tuple[str, float], dict[str, float]] = {}
        print("load average at the start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
        for round_ in range(args.rounds):
            for side, checkout in (("old", old), ("new", ROOT)) if round_ % 2 == 0 else (("new", ROOT), ("old", old)):
                root = work / f"{side}-{round_}"
                shutil.copytree(template, root)
                first = halo_build(checkout, root)  # the metadata and a first build (parse, warm-up), timed too
                full = halo_build(checkout, root, "--full")
                nodes[side, full[0]] = node_times(root)
                load_matches(GAMERTAG, [stage / "extra"], root=root)
                update = halo_build(checkout, root)
                times.setdefault((side, "first"), []).append(first)
                times.setdefault((side, "full"), []).append(full)
                times.setdefault((side, "update"), []).append(update)
                print(f"round {round_ + 1} {side}: first {first[0]:.1f} s ({first[1]:.1f} CPU s), "
                      f"full {full[0]:.1f} s ({full[1]:.1f} CPU s), "
                      f"update {update[0]:.1f} s ({update[1]:.1f} CPU s); "
                      f"load average {os.getloadavg()[0]:.2f}", flush=True)
                shutil.rmtree(root)
        # the best round of each side, by wall time and (separately) by CPU time
        best = {(key, measure): min(value[measure] for value in values)
                for key, values in times.items() for measure in (0, 1)}
        for kind in ("first", "full", "update"):
            for measure, unit in ((0, "s"), (1, "CPU s")):
                o, n = best[("old", kind), measure], best[("new", kind), measure]
                print(f"{kind:6}: old {o:.1f} {unit}, new {n:.1f} {unit}, new/old {n / o:.2f}")
        for side in ("old", "new"):
            for measure, unit in ((0, "wall"), (1, "CPU")):
                print(f"{side}: update/full {best[(side, 'update'), measure] / best[(side, 'full'), measure]:.2f}"
                      f" ({unit})")
        print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        if args.nodes:
            print_nodes(nodes["old", best[("old", "full"), 0]], nodes["new", best[("new", "full"), 0]])
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
