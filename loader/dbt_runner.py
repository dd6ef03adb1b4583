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

from loader.paths import PLAYER_DB_NAME, data_dir

PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass
class BuildOutcome:
    """What one `dbt build` did: success, node counts, tests passed/failed, errors, time."""

    name: str
    success: bool = False
    seconds: float = 0.0
    models: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    errors: list[str] = field(default_factory=list)


def dbt_args(command: str, target: str, *extra: str) -> list[str]:
    """`build --project-dir … --target …`; `command` may hold several words (`docs generate`)."""
    return [*command.split(), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target", target, "--quiet", *extra]


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


class DbtProject:
    """The dbt project, parsed once for the player target and reused for every player."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_dir()
        self._manifest = None

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
                result = dbtRunner().invoke(dbt_args("parse", "player"))
            if not result.success:
                raise RuntimeError(f"dbt parse failed: {result.exception}")
            self._manifest = result.result
        return self._manifest

    def build_player(self, name: str, player_db: Path, extra: Sequence[str] = ()) -> BuildOutcome:
        """`dbt build --target player` for one player's file, in-process, reusing the parsed manifest."""
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        if not player_db.exists():
            return BuildOutcome(name=name, errors=[f"no database at {player_db}: load the player's matches first"])
        manifest = self.manifest()
        with environment(**self._env(player_db)):
            try:
                result = dbtRunner(manifest=manifest).invoke(dbt_args("build", "player", *extra))
            finally:
                release_duckdb()
        return summarise(name, result, started)

    def docs_generate(self, player_db: Path) -> BuildOutcome:
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        with environment(**self._env(player_db)):
            try:
                result = dbtRunner(manifest=self.manifest()).invoke(dbt_args("docs generate", "player"))
            finally:
                release_duckdb()
        return summarise("docs", result, started)
