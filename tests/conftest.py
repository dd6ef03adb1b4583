"""Shared test fixtures: the real API samples vendored in tests/fixtures (see its README for their provenance)."""

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
RESPONSES = FIXTURES / "halo-api" / "responses"
FILM = FIXTURES / "halo-api" / "film"
REFERENCE = FIXTURES / "reference"
OWNER_XUID = 2533274900000017
OWNER_ID = f"xuid({OWNER_XUID})"
MATCH_STATS_FILES = sorted(RESPONSES.glob("get_match_stats*.json")) + [FILM / "match_stats.json"]


_STARTED = time.monotonic()
WALL_TIME_LIMIT_MINUTES = 10


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets its own dbt target and log folders (in-process `halo build`, `halo docs`
    and their subprocesses inherit them), so two workers never write one partial_parse.msgpack."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        os.environ["DBT_TARGET_PATH"] = f"target/pytest-{worker}"
        os.environ["DBT_LOG_PATH"] = str(ROOT / "logs" / f"pytest-{worker}")


# The files that take longest (their dbt builds), slowest first: `run.py test` runs files on two processes
# (pytest-xdist, --dist loadfile), each taking the next file when it is done, so a long file started last would run
# alone at the end. Only the order of files changes; the order of the tests in a file stays. The order comes from
# per-file times of a whole `run.py test` (its --junitxml; rough: only the order matters), the Spark file first (one
# JVM session, while the other process takes the demo file); a file not
# listed runs after these. The four after test_marts.py are ordered by their times alone (each 60-80 s after the
# cuts of issue 15), not yet by a whole run.
SLOWEST_FIRST = ("test_spark_target.py", "test_demo_e2e.py", "test_marts.py", "test_build_safety.py",
                 "test_load_order.py", "test_resources.py", "test_one_load.py", "test_materializations.py",
                 "test_report.py", "test_warehouse_target.py", "test_accepted_builds.py", "test_missing_names.py",
                 "test_terminal.py", "test_sync.py", "test_crash_safety.py", "test_sync_shared.py", "test_paths.py",
                 "test_export_restore.py", "test_marts_owners.py", "test_fuzz.py", "test_ownership.py",
                 "test_film_chunks.py", "test_metadata_dbt.py", "test_lake.py", "test_dbt_shell.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))   # stable: each file's tests keep their order


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    minutes = (time.monotonic() - _STARTED) / 60
    terminalreporter.write_line(f"test suite wall time: {minutes:.1f} min (to stay under {WALL_TIME_LIMIT_MINUTES} "
                                "min on a 2-core machine)")


def read_json(path: Path) -> dict:
    """Independent reading of a fixture for expected values (plain json, not the loader)."""
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HALO_DATA_DIR for one test."""
    root = tmp_path / "data"
    monkeypatch.setenv("HALO_DATA_DIR", str(root))
    return root


_BUILT_METADATA: dict[str, Path] = {}


def built_metadata(root: Path, *paths: Path) -> None:
    """`root`'s metadata database as `halo load reference PATHS` and the metadata build of the next `halo build` leave
    it (the reference documents, the metadata models, the fingerprint stamp that tells `halo build` it is built).
    Made once per test process for the same reference files (by content: the demo writes the same reference files
    whatever the seed) and copied: a metadata build is a dbt build of its own. For tests whose subject is not the
    reference load or the metadata build (those load and build themselves)."""
    from loader.ingest.load_reference import load_reference
    from loader.warehouse.build import build_metadata_if_changed
    from loader.warehouse.dbt_runner import DbtProject

    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(f"{file.relative_to(path) if path.is_dir() else file.name}\0".encode())
                digest.update(hashlib.sha256(file.read_bytes()).digest())
    key = digest.hexdigest()
    if key not in _BUILT_METADATA:
        base = Path(tempfile.mkdtemp(prefix="halo-test-metadata-"))
        atexit.register(shutil.rmtree, base, True)
        template = base / "data"
        loaded = load_reference(list(paths), root=template)
        assert loaded.rejections == [], [r.reason for r in loaded.rejections]
        built = build_metadata_if_changed(DbtProject(template), template)
        assert built is not None and built.success, built and built.errors
        _BUILT_METADATA[key] = template / "warehouse"
    shutil.copytree(_BUILT_METADATA[key], root / "warehouse", dirs_exist_ok=True)
