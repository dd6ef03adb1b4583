"""Bench steps that run in their own process (so that their memory and imports are their own):

    python -m bench.steps setup_player <root> <reference dir> <gamertag> <xuid> <folder>...  load + metadata build
    python -m bench.steps parse <root>                                                      import dbt, parse
    python -m bench.steps incremental <root> <gamertag> <increment folder>                 parse, load + build
    python -m bench.steps build_many <root> <gamertag>...                                   in-process builds

Each prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def setup_player(root: Path, reference: Path, players: list[tuple[str, int, Path]]) -> dict:
    from loader.ingest.load_matches import load_matches
    from loader.ingest.load_reference import load_reference
    from loader.warehouse.build import build_metadata_if_changed
    from loader.warehouse.dbt_runner import DbtProject

    started = time.perf_counter()
    load_reference([reference], root=root)
    meta = build_metadata_if_changed(DbtProject(root), root)
    if meta is not None and not meta.success:
        raise RuntimeError(f"metadata build failed: {meta.errors}")
    loads = {}
    for gamertag, xuid, folder in players:
        result = load_matches(gamertag, [folder], xuid=xuid, root=root)
        if result.counts.rejected:
            raise RuntimeError(f"{gamertag}: {result.counts.rejected} rejected: {result.rejections[0].reason}")
        loads[gamertag] = {"seconds": result.seconds, "documents": result.counts.loaded}
    return {"seconds": time.perf_counter() - started, "loads": loads}


def parse(root: Path) -> dict:
    """A new process's dbt import and parse of the project for the player target (what `halo build` does first)."""
    started = time.perf_counter()
    import dbt.cli.main  # noqa: F401

    imported = time.perf_counter()
    from loader.warehouse.dbt_runner import DbtProject

    DbtProject(root).manifest()
    return {"import_s": imported - started, "parse_s": time.perf_counter() - imported}


def node_times(target_path: Path) -> list[tuple[str, float]]:
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return [(r["unique_id"], r["execution_time"]) for r in results]


def incremental(root: Path, gamertag: str, increment: Path, target_path: Path) -> dict:
    """A long-lived process (the project parsed, one build done) gets new matches: load them, then build, timed."""
    from loader.ingest.load_matches import load_matches
    from loader.warehouse.build import build_players
    from loader.warehouse.dbt_runner import DbtProject

    project = DbtProject(root)
    project.manifest()  # the one-time parse of a long-lived process: not part of an update
    # A long-lived process has built before (dbt compiles each macro's Jinja template on its first use in a
    # process): one update with nothing new, timed and reported on its own, then the measured update.
    warm_started = time.perf_counter()
    _, (warm,) = build_players([gamertag], root=root, project=project)
    if not warm.success or warm.mode != "update":
        raise RuntimeError(f"the warm-up build was not a successful update: {warm.mode} {warm.errors}")
    warm_s = time.perf_counter() - warm_started
    started = time.perf_counter()
    loaded = load_matches(gamertag, [increment], root=root)
    load_s = time.perf_counter() - started
    metadata, outcomes = build_players([gamertag], root=root, project=project)
    if metadata is not None:
        raise RuntimeError("the reference data changed between the full build and the update")
    total = time.perf_counter() - started
    (outcome,) = outcomes
    if not outcome.success:
        raise RuntimeError(f"build failed: {outcome.errors}")
    return {"seconds": total, "warm_s": warm_s, "load_s": load_s, "build_s": outcome.seconds,
            "documents": loaded.counts.loaded,
            "mode": outcome.mode, "notes": outcome.notes, "models": outcome.models, "tests": outcome.tests_passed,
            "nodes": node_times(target_path)}


def build_many(root: Path, gamertags: list[str]) -> dict:
    from loader.warehouse.build import build_players

    started = time.perf_counter()
    _, outcomes = build_players(gamertags, root=root)
    failed = [o.name for o in outcomes if not o.success]
    if failed:
        raise RuntimeError(f"builds failed: {failed}: {outcomes[0].errors}")
    return {"seconds": time.perf_counter() - started, "players": [[o.name, o.seconds, o.mode] for o in outcomes]}


if __name__ == "__main__":
    step, args = sys.argv[1], sys.argv[2:]
    if step == "setup_player":
        root, reference, rest = Path(args[0]), Path(args[1]), args[2:]
        players = [(rest[i], int(rest[i + 1]), Path(rest[i + 2])) for i in range(0, len(rest), 3)]
        out = setup_player(root, reference, players)
    elif step == "parse":
        out = parse(Path(args[0]))
    elif step == "incremental":
        out = incremental(Path(args[0]), args[1], Path(args[2]), Path(args[3]))
    elif step == "build_many":
        out = build_many(Path(args[0]), args[1:])
    else:
        raise SystemExit(f"unknown step {step}")
    print(json.dumps(out))
