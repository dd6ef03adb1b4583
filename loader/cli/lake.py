"""`halo lake`: export every tracked player's raw layer to the Parquet lake, rewriting only what changed."""

import argparse

from loader.cli.console import err, out
from loader.cli.exits import EXIT_OK
from loader.warehouse.lake import LakeResult, export_lake, lake_dir


def report_lake(result: LakeResult) -> None:
    if not result.changed and not result.written:
        err.print(f"lake: up to date ({result.players} players, {result.unchanged} partitions) in "
                  f"{result.seconds:.1f} s")
        return
    err.print(f"lake: {len(result.written)} partitions written, {len(result.removed)} removed, {result.unchanged} "
              f"unchanged ({result.players} players) in {result.seconds:.1f} s")


def run(args: argparse.Namespace) -> int:
    result = export_lake()
    report_lake(result)
    out.print(str(lake_dir()), markup=False)
    return EXIT_OK
