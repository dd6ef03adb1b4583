"""The spark target's build time against the per-player DuckDB builds of the same data, in one run.

    python bench/spark_build.py [--players 50] [--matches-per-player 200] [--seed 7]

The same data as bench/warehouse.py (`many_player_files`: independent players, full documents, films for a tenth;
the demo generator's sharing friends are only eight) is loaded into the players' own files, then, timed in this order:
`halo build --all` (per-player DuckDB builds, the baseline), `halo lake` (the export), and the spark target
(loader/warehouse/spark.py build_spark: SparkSession start, source views, `dbt run --target spark` in-process, as
tests/test_spark_target.py runs it; the session start is reported apart). Prints seconds and the ratio of Spark's
build to the DuckDB builds. No target (issue "One warehouse for many players": report only).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import many_player_files  # noqa: E402
from loader.ingest.load_matches import load_matches  # noqa: E402
from loader.ingest.load_reference import load_reference  # noqa: E402
from loader.warehouse.build import build_players  # noqa: E402
from loader.warehouse.dbt_runner import PROJECT_DIR  # noqa: E402
from loader.warehouse.lake import export_lake  # noqa: E402
from loader.warehouse.spark import build_spark, spark_session  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--players", type=int, default=50)
    parser.add_argument("--matches-per-player", type=int, default=200)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="halo-spark-bench-")) / "data"
    os.environ["HALO_DATA_DIR"] = str(root)
    listing, reference = many_player_files(args.players, args.matches_per_player, seed=args.seed)
    load_reference([reference], root=root)
    for gamertag, xuid, folder in listing:
        load_matches(gamertag, [folder], xuid=xuid, root=root)
    times = {}
    started = time.perf_counter()
    _, builds = build_players(None, root)
    times["duckdb: halo build --all"] = time.perf_counter() - started
    assert all(b.success for b in builds), [b.errors for b in builds if not b.success]
    started = time.perf_counter()
    export_lake(root)
    times["halo lake"] = time.perf_counter() - started
    started = time.perf_counter()
    spark_session(PROJECT_DIR, root).sparkContext.setLogLevel("ERROR")
    times["spark: session start"] = time.perf_counter() - started
    started = time.perf_counter()
    outcome = build_spark(root, command="run")
    times["spark: views + dbt run"] = time.perf_counter() - started
    assert outcome.success, outcome.errors
    print(f"{args.players} players x {args.matches_per_player} matches, data in {root}")
    for step, seconds in times.items():
        print(f"  {step:<28} {seconds:8.1f} s")
    spark = times["spark: session start"] + times["spark: views + dbt run"]
    ratio = spark / times["duckdb: halo build --all"]
    print(f"  spark (session start included) / duckdb per-player builds: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
