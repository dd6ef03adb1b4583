"""A full `halo build`'s data tests counted in one DuckDB query, the tests that find a row handed to dbt.

dbt runs each data test as a node of its own: ~25–30 ms of its own work per test on this machine (the node's
context built twice, the generic test's Jinja and its materialization rendered, events, a cursor, BEGIN and
ROLLBACK), whatever the test's query costs, and a player's full build runs 64 (BENCHMARKS.md, "Marts v2"). A full
`halo build` of a player instead

1. runs `dbt build` of the models without the *batched* tests (the others stay in it, as before);
2. counts each batched test's failing rows in one query over the player's file: `select count(*) from (<the test's
   SQL as dbt compiled it>)` for every test, joined by `union all`. The SQL is the `compiled_code` of an earlier
   build of the same project (the same manifest fingerprint, dbt and dbt-duckdb versions, profiles.yml): every
   player file is `stats.duckdb` (database `stats`) and the metadata is attached as `meta`, so one compilation
   serves every player. It is kept in `target/halo-tests/<key>.json`; a test not kept there yet runs in dbt's
   build, and its compiled SQL is kept for the next;
3. hands every test that counted a row back to dbt (`dbt test --select <those>`, in-process, on the same file),
   which runs it again and decides pass, warn or fail with its own thresholds, prints it, logs it and counts it
   as it always does. If the query itself fails, all the batched tests are handed to dbt.

A test is batched only when dbt's verdict is "a row means warn or fail" (fail_calc `count(*)`, warn_if and
error_if `!= 0`, no `limit`, no `store_failures`) and its compiled SQL names no path of the player (nothing
player-specific): for those, a count of 0 is dbt's pass, and any other count is decided by dbt itself.

What differs from `dbt build` (README, Building): the batched tests run after all models, so a model downstream
of a failing test is built instead of skipped; the build still fails (no build state is written: the next build is
a full one again), and a test that is a warning stays a warning. `dbt build` from the shell is unchanged.
"""

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from loader.core.resources import write_text_replacing

CACHE_FOLDER = "halo-tests"
BATCH_THREAD = "halo-batched-tests"  # the thread_id of a batched test's result in run_results.json


def batchable(node: object) -> bool:
    """Whether a count of 0 failing rows is dbt's pass for this data test and any other count its warn or fail."""
    config = node.config  # type: ignore[attr-defined]
    return (node.resource_type == "test" and config.enabled  # type: ignore[attr-defined]
            and config.fail_calc.strip().lower() == "count(*)"
            and config.warn_if.replace(" ", "") == "!=0" and config.error_if.replace(" ", "") == "!=0"
            and config.limit is None and not config.store_failures)


def cache_key(fingerprint: str, target: str, profiles: Path) -> str:
    """What a test's compiled SQL depends on: the project (its manifest's fingerprint), the target and the
    database name, dbt's and dbt-duckdb's versions (their macros), and the profile (its schema names the tables)."""
    from dbt.adapters.duckdb.__version__ import version as duckdb_adapter_version
    from dbt.version import __version__ as dbt_version

    profile = hashlib.sha256(profiles.read_bytes()).hexdigest()[:12]
    return f"{target}-{dbt_version}-{duckdb_adapter_version}-{fingerprint[:24]}-{profile}"


class CompiledTests:
    """The compiled SQL of the data tests of one project version and target: unique_id -> SQL."""

    def __init__(self, folder: Path, key: str) -> None:
        self.path = folder / CACHE_FOLDER / f"{key}.json"
        try:
            self.sql: dict[str, str] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.sql = {}

    def keep(self, results: Iterable[object], private: Iterable[str]) -> None:
        """Keep the compiled SQL of the batchable tests among dbt's node results, but not SQL naming a `private`
        text (a path of the player). Written whole to a temporary name and renamed; other keys' files are removed."""
        added = False
        for result in results:
            node = getattr(result, "node", None)
            code = getattr(node, "compiled_code", None)
            if (node is None or not code or node.unique_id in self.sql or not batchable(node)
                    or any(text in code for text in private)):
                continue
            self.sql[node.unique_id] = code
            added = True
        if not added:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text_replacing(self.path, json.dumps(self.sql, sort_keys=True))
        for other in self.path.parent.glob("*.json"):
            if other != self.path:
                other.unlink(missing_ok=True)


def count_failures(database: Path, metadata: Path, tests: Mapping[str, str],
                   con: duckdb.DuckDBPyConnection | None = None) -> dict[str, int]:
    """unique_id -> the number of rows each test's SQL returns, in one query over `database` (only read) with the
    metadata attached read-only as `meta`, as the profile attaches it. Through a cursor of `con` when given (the
    build's own connection to `database`, left open), else a read-only connection of its own."""
    if not tests:
        return {}
    names = list(tests)
    query = "\nunion all\n".join(f"select {index} as test, count(*) as failures from (\n{tests[name]}\n) as t"
                                 for index, name in enumerate(names))
    cursor = (con.cursor() if con is not None
              else duckdb.connect(str(database), read_only=True, config={"preserve_insertion_order": False}))
    try:
        cursor.execute(f"attach if not exists '{str(metadata).replace(chr(39), chr(39) * 2)}' as meta (read_only)")
        rows = cursor.execute(query).fetchall()
    finally:
        cursor.close()
    return {names[index]: failures for index, failures in rows}


def passed_results(nodes: Iterable[object], seconds: float) -> list[object]:
    """dbt RunResults (status pass, 0 failures) for tests the batched query found no row for, so that
    run_results.json and the build's counts list every test that ran; `seconds` is the query's time, shared."""
    from dbt.artifacts.schemas.results import TestStatus
    from dbt.artifacts.schemas.run import RunResult

    nodes = list(nodes)
    each = seconds / len(nodes) if nodes else 0.0
    return [RunResult(status=TestStatus.Pass, timing=[], thread_id=BATCH_THREAD, execution_time=each,
                      adapter_response={}, message=None, failures=0, node=node, batch_results=None)
            for node in nodes]


def skipped_results(nodes: Iterable[object]) -> list[object]:
    """dbt RunResults (status skipped) for batched tests that were not run because a model they read did not
    build, as dbt skips a test downstream of a failed node."""
    from dbt.artifacts.schemas.results import RunStatus
    from dbt.artifacts.schemas.run import RunResult

    return [RunResult(status=RunStatus.Skipped, timing=[], thread_id=BATCH_THREAD, execution_time=0.0,
                      adapter_response={}, message="skipped: a model it reads did not build", failures=None,
                      node=node, batch_results=None) for node in nodes]


def private_paths(*paths: Path) -> list[str]:
    """Texts whose presence makes a compiled test player-specific: the player's folder, the data folder."""
    return [str(path) for path in paths] + [os.path.realpath(path) for path in paths]
