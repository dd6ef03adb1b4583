"""Run the dbt project in-process: parse once, then `dbt build` per player with the same manifest.

Every player file is named `stats.duckdb` and per-player settings come from the
profile's environment variables (HALO_PLAYER_DB, HALO_ARCHIVE_DIR), so one
parsed manifest serves every player. dbt-duckdb keeps its DuckDB connection in
a class-level environment; it is closed after each player so the file lock is
released before the next process or player needs it.
"""

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from loader.paths import PLAYER_DB_NAME, data_dir, metadata_db_path

PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass
class BuildOutcome:
    """What one `dbt build` did: success, node counts, tests passed/failed, errors, time."""

    name: str
    success: bool = False
    seconds: float = 0.0
    mode: str = "full"
    models: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. why an update fell back to a full build


def dbt_args(command: str, target: str, *extra: str) -> list[str]:
    """`build --project-dir … --target …`; `command` may hold several words (`docs generate`)."""
    return [*command.split(), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target", target, "--quiet", *extra]


# In-process player builds: what a `dbt build` from the shell does per invocation but a build of one player after
# another does not need. The log file keeps info lines (node start/end, errors), not the ~40 debug lines per node;
# manifest.json and graph.gpickle (0.9 s per invocation for this project) are not rewritten for every player, only
# run_results.json is (write_run_results); no anonymous usage events. DBT_LOG_LEVEL_FILE=debug brings the debug log
# back.
LEAN_FLAGS = (*(() if os.environ.get("DBT_LOG_LEVEL_FILE") else ("--log-level-file", "info")),
              "--no-write-json", "--no-send-anonymous-usage-stats")


def target_dir() -> Path:
    """dbt's target folder, as dbt resolves it (DBT_TARGET_PATH, relative to the project, else `target`)."""
    return PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")


def write_run_results(result: object) -> None:
    """target/run_results.json of an in-process run (dbt's own file, skipped with --no-write-json)."""
    run = getattr(result, "result", None)
    if run is not None and hasattr(run, "write"):
        path = target_dir()
        path.mkdir(parents=True, exist_ok=True)
        run.write(str(path / "run_results.json"))


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for one dbt invocation (the profile reads them), then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def release_duckdb() -> None:
    """Close dbt-duckdb's shared DuckDB handle so the player file's lock is released."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            try:
                env.close()
            finally:
                DuckDBConnectionManager._ENV = None


def summarise(name: str, result: object, started: float) -> BuildOutcome:
    """Count models and tests from a dbtRunnerResult."""
    outcome = BuildOutcome(name=name, success=bool(getattr(result, "success", False)),
                           seconds=time.perf_counter() - started)
    run = getattr(result, "result", None)
    for node_result in getattr(run, "results", None) or []:
        kind = str(getattr(node_result.node, "resource_type", ""))
        status = str(node_result.status)
        if kind.endswith("test") or kind.endswith("unit_test"):
            if status in ("pass", "TestStatus.Pass"):
                outcome.tests_passed += 1
            elif status not in ("skipped", "RunStatus.Skipped"):
                outcome.tests_failed += 1
        elif kind.endswith("model"):
            outcome.models += 1
        if status in ("error", "fail", "RunStatus.Error", "TestStatus.Fail", "TestStatus.Error"):
            outcome.errors.append(f"{node_result.node.name}: {node_result.message}")
    exception = getattr(result, "exception", None)
    if exception is not None:
        outcome.errors.append(str(exception))
    return outcome


# `halo build` of a player whose warehouse was fully built by this same project (same models, tests, macros,
# seeds: the fingerprint of the parsed manifest, kept beside the player's file) runs an *update*: the models that
# hold data (tables, incremental marts, the season archive) are rebuilt; views are not re-created (their SQL is
# unchanged and they exist), and tests are not re-run (unit tests depend on the code alone; data tests ran with the
# last full build and run again with every full build: after a project or reference-data change, with
# HALO_BUILD_FULL=1, or `dbt build` from the shell). A failed update falls back to a full build.
BUILD_STATE_NAME = "build.state"
METADATA_FINGERPRINT_NAME = "metadata.fingerprint"  # beside metadata.duckdb: the reference data last built
UPDATE_SELECT = ("config.materialized:table", "config.materialized:incremental", "config.materialized:external")
# dbt threads for player builds: two nodes at once overlap dbt's per-node Python work with DuckDB's execution.
PLAYER_THREADS = os.environ.get("HALO_DBT_THREADS", "2")


def manifest_fingerprint(manifest: object) -> str:
    """A digest of everything a build runs: node and unit-test SQL checksums, configs, macros of the project."""
    import hashlib
    import json

    parts = []
    for group in ("nodes", "unit_tests", "sources"):
        for uid, node in sorted((getattr(manifest, group, None) or {}).items()):
            checksum = getattr(getattr(node, "checksum", None), "checksum", "")
            config = getattr(node, "config", None)
            parts.append(f"{uid}:{checksum}:{json.dumps(config.to_dict(), sort_keys=True, default=str) if config else ''}")
    for uid, macro in sorted((getattr(manifest, "macros", None) or {}).items()):
        if macro.package_name == "halo":
            parts.append(f"{uid}:{hashlib.sha256(macro.macro_sql.encode()).hexdigest()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class DbtProject:
    """The dbt project, parsed once for the player target and reused for every player."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_dir()
        self._manifest = None
        self._fingerprint: str | None = None

    def _env(self, player_db: Path) -> dict[str, str]:
        return {"HALO_DATA_DIR": str(self.root), "HALO_PLAYER_DB": str(player_db),
                "HALO_ARCHIVE_DIR": str(player_db.parent / "archive")}

    def build_metadata(self) -> BuildOutcome:
        """`dbt build --target metadata` (its own parse: other models are enabled on that target)."""
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        with environment(HALO_DATA_DIR=str(self.root), HALO_PLAYER_DB=str(self.root / "unused" / PLAYER_DB_NAME)):
            try:
                result = dbtRunner().invoke(dbt_args("build", "metadata"))
            finally:
                release_duckdb()
        return summarise("metadata", result, started)

    def manifest(self) -> object:
        """Parse the project for the player target once."""
        if self._manifest is None:
            from dbt.cli.main import dbtRunner

            with environment(**self._env(self.root / "players" / "_parse" / PLAYER_DB_NAME)):
                # partial_parse.msgpack is still written (a later process parses faster); manifest.json is not
                result = dbtRunner().invoke(dbt_args("parse", "player", *LEAN_FLAGS))
            if not result.success:
                raise RuntimeError(f"dbt parse failed: {result.exception}")
            self._manifest = result.result
            # fingerprinted as parsed: a run mutates the manifest's nodes (compiled SQL, relation names)
            self._fingerprint = manifest_fingerprint(self._manifest)
        return self._manifest

    def fingerprint(self) -> str:
        """What a player's last full build must match for an update to do: the parsed project and the
        reference data it was built against (new names change every row)."""
        self.manifest()
        stamp = metadata_db_path(self.root).parent / METADATA_FINGERPRINT_NAME
        return f"{self._fingerprint}:{stamp.read_text().strip() if stamp.exists() else ''}"

    def build_player(self, name: str, player_db: Path, extra: Sequence[str] = (), full: bool = False) -> BuildOutcome:
        """`dbt build --target player` for one player's file, in-process, reusing the parsed manifest.

        An update (see BUILD_STATE_NAME) when the player was fully built by this same project and `full` is not
        asked for. Unit tests are not part of it (they do not read the player's data; see LEAN_FLAGS too).
        """
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        if not player_db.exists():
            return BuildOutcome(name=name, errors=[f"no database at {player_db}: load the player's matches first"])
        manifest = self.manifest()
        state = player_db.parent / BUILD_STATE_NAME
        full = full or os.environ.get("HALO_BUILD_FULL", "") not in ("", "0")
        # Built before by another project version or against other reference data: incremental marts would
        # keep old rows (old names, old logic), so everything is rebuilt from the raw layer.
        stale = state.exists() and state.read_text().strip() != self.fingerprint()
        update = not full and not extra and state.exists() and not stale
        threads = ("--threads", PLAYER_THREADS)
        if update:
            args = dbt_args("run", "player", "--select", *UPDATE_SELECT, *threads, *LEAN_FLAGS)
        else:
            # unit tests read fixed fixtures, never the player's data: `halo build` leaves them to the test suite
            # and to `dbt build` / `dbt test` from the shell (README, Building)
            skip_units = ("--exclude-resource-type", "unit_test") if not extra else ()
            refresh = ("--full-refresh",) if (full or stale) and not extra else ()
            args = dbt_args("build", "player", *threads, *skip_units, *refresh, *LEAN_FLAGS, *extra)
            state.unlink(missing_ok=True)  # a failed full build must not leave an old state behind
        with environment(**self._env(player_db)):
            try:
                result = dbtRunner(manifest=manifest).invoke(args)
            finally:
                release_duckdb()
        write_run_results(result)
        outcome = summarise(name, result, started)
        if update and not outcome.success:
            # e.g. the player's file was recreated since its last build: views are missing; build it fully
            retry = self.build_player(name, player_db, extra, full=True)
            retry.seconds = time.perf_counter() - started
            retry.notes.append("update failed, built fully: " + "; ".join(outcome.errors[:3]))
            return retry
        outcome.mode = "update" if update else "full"
        if outcome.success and not update and not extra:
            state.write_text(self.fingerprint())
        return outcome

    def docs_generate(self, player_db: Path) -> BuildOutcome:
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        with environment(**self._env(player_db)):
            try:
                result = dbtRunner(manifest=self.manifest()).invoke(dbt_args("docs generate", "player"))
            finally:
                release_duckdb()
        return summarise("docs", result, started)
