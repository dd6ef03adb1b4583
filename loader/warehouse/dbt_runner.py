"""Run the dbt project in-process: parse once, then `dbt build` per player with the same manifest.

Every player file is named `stats.duckdb` and per-player settings come from the
profile's environment variables (HALO_PLAYER_DB, HALO_ARCHIVE_DIR), so one
parsed manifest serves every player. dbt-duckdb keeps its DuckDB connection in
a class-level environment; it is closed after each player so the file lock is
released before the next process or player needs it.
"""

import dataclasses
import gc
import hashlib
import json
import os
import pickle
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from loader.core.errors import ProjectDefinitionError
from loader.core.paths import PLAYER_DB_NAME, data_dir, metadata_db_path
from loader.core.resources import write_text_replacing
from loader.core.settings import settings
from loader.warehouse import data_tests

PROJECT_DIR = Path(__file__).resolve().parents[2]


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
    tests_warned: int = 0  # tests at severity warn that found rows (e.g. an outcome code the seed does not know)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. why an update fell back to a full build


def dbt_args(command: str, target: str, *extra: str) -> list[str]:
    """`build --project-dir … --target …`; `command` may hold several words (`docs generate`)."""
    return [*command.split(), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target", target, "--quiet", *extra]


# In-process player builds: what a `dbt build` from the shell does per invocation but a build of one player after
# another does not need. manifest.json and graph.gpickle (0.9 s per invocation for this project) are not rewritten
# for every player, only run_results.json is (write_run_results); no anonymous usage events. dbt's own loggers are
# off: they format and scrub every debug event (about 90 per node) before filtering by level, ~7% of a player's
# build; InfoLog writes the info-level lines to logs/dbt.log instead. DBT_LOG_LEVEL_FILE (e.g. debug) brings dbt's
# file logger back.
def lean_flags() -> tuple[str, ...]:
    dbt_file_log = bool(os.environ.get("DBT_LOG_LEVEL_FILE"))
    return (*(() if dbt_file_log else ("--log-level-file", "none")), "--log-level", "none",
            "--no-write-json", "--no-send-anonymous-usage-stats")


def log_dir() -> Path:
    """dbt's log folder, as dbt resolves it (DBT_LOG_PATH, else `logs` in the project)."""
    return Path(os.environ["DBT_LOG_PATH"]) if os.environ.get("DBT_LOG_PATH") else PROJECT_DIR / "logs"


# An error or log line of dbt quotes what failed (a path, a value): a document's 50 MB field must not become 50 MB
# on the console and in logs/dbt.log. Each message is cut to this many characters, with a note saying so.
MAX_MESSAGE_CHARS = 2000


def bounded(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text`, or its first `limit` characters and a note of how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} … [{len(text) - limit:,} more characters cut; see the model's SQL and the raw data]"


class InfoLog:
    """A dbtRunner callback appending dbt's info, warning and error lines to logs/dbt.log (the lines dbt's file
    logger writes at `--log-level-file info`), with secrets (DBT_ENV_SECRET_*) scrubbed as dbt does."""

    LEVELS = frozenset({"info", "warn", "error"})

    def __init__(self) -> None:
        from dbt_common.exceptions.base import env_secrets

        self._secrets = env_secrets()
        self._lock = threading.Lock()
        self._file = None
        if not os.environ.get("DBT_LOG_LEVEL_FILE"):
            folder = log_dir()
            folder.mkdir(parents=True, exist_ok=True)
            self._file = open(folder / "dbt.log", "a", encoding="utf8")  # noqa: SIM115 (closed by close())

    def __call__(self, msg: object) -> None:
        info = msg.info  # type: ignore[attr-defined]
        if self._file is None or info.level not in self.LEVELS:
            return
        text = bounded(info.msg)
        for secret in self._secrets:
            text = text.replace(secret, "*****")
        with self._lock:
            self._file.write(f"{info.ts.ToJsonString()[:23]} [{info.level:<5}] [{info.thread}]: {text}\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def target_dir() -> Path:
    """dbt's target folder, as dbt resolves it (DBT_TARGET_PATH, relative to the project, else `target`)."""
    return PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")


def write_run_results(result: object, folder: Path | None = None) -> None:
    """target/run_results.json of an in-process run (dbt's own file, skipped with --no-write-json).

    Written to a temporary name and renamed: parallel build workers write it too, and a reader never sees a
    half-written file (the last player's results win)."""
    run = getattr(result, "result", None)
    if run is not None and hasattr(run, "write"):
        path = folder or target_dir()
        path.mkdir(parents=True, exist_ok=True)
        partial = path / f"run_results.json.{os.getpid()}.tmp"
        run.write(str(partial))
        os.replace(partial, path / "run_results.json")


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
    """Close dbt-duckdb's shared DuckDB handle so the player file's lock is released (at once, or when the
    connection build_one holds for the build closes: the same database instance)."""
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
            elif status in ("warn", "TestStatus.Warn"):
                outcome.tests_warned += 1
                outcome.notes.append(bounded(f"warning: {node_result.node.name}: {node_result.message}"))
            elif status not in ("skipped", "RunStatus.Skipped"):
                outcome.tests_failed += 1
        elif kind.endswith("model"):
            outcome.models += 1
        if status in ("error", "fail", "RunStatus.Error", "TestStatus.Fail", "TestStatus.Error"):
            outcome.errors.append(bounded(f"{node_result.node.name}: {node_result.message}"))
    exception = getattr(result, "exception", None)
    if exception is not None:
        outcome.errors.append(bounded(str(exception)))
    return outcome


# `halo build` of a player whose warehouse was fully built by this same project (same models, tests, macros,
# seeds: the fingerprint of the parsed manifest, kept beside the player's file) runs an *update*: the models that
# hold data (tables, incremental marts, the season archive) are rebuilt; views are not re-created (their SQL is
# unchanged and they exist), and tests are not re-run (unit tests depend on the code alone; data tests ran with the
# last full build and run again with every full build: after a project or reference-data change, with
# HALO_BUILD_FULL=1, or `dbt build` from the shell). A failed update falls back to a full build.
BUILD_STATE_NAME = "build.state"
METADATA_FINGERPRINT_NAME = "metadata.fingerprint"  # beside metadata.duckdb: the reference data last built
WAREHOUSE_STATE_NAME = "warehouse.state"  # beside warehouse.duckdb: what its last full build was built by
UPDATE_SELECT = ("config.materialized:halo_table", "config.materialized:halo_incremental",
                 "config.materialized:halo_external")
# A model whose config says `meta: {halo_update_only_when_sources_change: true}` (the snapshot tables and
# tracked_players, README Building) is left out of an update while every raw table it reads (its `halo` sources,
# through the views between) holds what it held at the player's last successful build: a digest of each such table's
# rows (their count and the sum of their rows' hashes) is kept beside the player's file (INPUTS_STATE_NAME). Those
# tables are small (one row per snapshot or owner); the matches' tables are not among them. A table missing from
# the file, or a digest that cannot be taken, and the model is built.
UPDATE_WHEN_CHANGED_META = "halo_update_only_when_sources_change"
INPUTS_STATE_NAME = "build.inputs"

# dbt threads for player builds: two nodes at once overlap dbt's per-node Python work with DuckDB's execution. An
# update's nodes are mostly small queries waiting on DuckDB: four at once measured faster there (about 0.2 s of an
# update of 25 matches); for full builds four were no faster than two. HALO_DBT_THREADS sets both.
PLAYER_THREADS = 2
UPDATE_THREADS = 4


# Data tests that DuckDB's constraints already decide. The halo_table and halo_incremental materializations add a
# contracted model's constraints (primary key, not null) to the table they create (halo_add_constraints), and DuckDB
# then refuses every row breaking them, at the create and at every later insert: a build whose table holds a null
# key or a duplicated key fails at that model, which keeps its old table and skips everything downstream. The
# model's not_null, unique and unique_key tests on those columns can find no row there. A full `halo build`
# (always `--full-refresh`, so every such table is created by that build, with its constraints) leaves them out;
# `dbt build` / `dbt test` from the shell runs them, and on an engine that does not enforce constraints (Spark)
# they are the check.
ENFORCING_MATERIALIZATIONS = frozenset({"halo_table", "halo_incremental"})


def enforced_keys(model: object) -> tuple[set[str], list[set[str]]]:
    """A model's columns that DuckDB keeps not null, and its primary keys (sets of columns), as its halo
    materialization creates them; nothing for a model without an enforced contract or of another materialization."""
    config = getattr(model, "config", None)
    if config is None or config.materialized not in ENFORCING_MATERIALIZATIONS or not config.contract.enforced:
        return set(), []
    not_null: set[str] = set()
    keys: list[set[str]] = []
    for name, column in (getattr(model, "columns", None) or {}).items():
        for constraint in column.constraints:
            if constraint.type == "not_null":
                not_null.add(name)
            elif constraint.type == "primary_key":
                keys.append({name})
    for constraint in getattr(model, "constraints", None) or []:
        if constraint.type == "primary_key":
            keys.append(set(constraint.columns))
    not_null.update(*keys)  # DuckDB keeps a primary key's columns not null
    return not_null, keys


# A test of a view can be decided by the constraints of a table downstream: when that table's full build writes
# every row of the view, with the tested columns unchanged, into columns the table keeps not null / as its primary
# key, a null or a duplicated key in the view makes that table's build fail (DuckDB refuses it; the table keeps its
# old rows and everything downstream is skipped), as the test's failure would have failed the build. That part of
# the argument is the SQL of the downstream model, not something dbt knows: the test declares it in its config
# (`meta: {halo_decided_on_full_build_by: <model>}`, with the reason beside it in the yml), and
# tests_decided_by_constraints checks what it can: the model named depends on the tested one, and its enforced
# constraints cover the tested column (not_null) or key (unique, unique_key) under the same names; a declaration
# that does not hold is an error, never a test silently left out.
DECIDED_BY_META = "halo_decided_on_full_build_by"


def decided(meta: object, column: str | None, not_null: set[str], keys: list[set[str]]) -> bool:
    """Whether a not_null / unique / unique_key test (`meta`: its test_metadata) on `column` can find no row in a
    table whose not-null columns and primary keys are these."""
    if meta.name == "not_null":  # type: ignore[attr-defined]
        return column in not_null
    if meta.name == "unique":  # type: ignore[attr-defined]
        return {column} in keys
    if meta.name == "unique_key":  # rows with a null in the columns are left out: a superset of a key is one
        columns = set(meta.kwargs.get("columns") or ())  # type: ignore[attr-defined]
        return any(key <= columns for key in keys)
    return False


def tests_decided_by_constraints(manifest: object) -> list[str]:
    """Names of the data tests (not_null, unique, unique_key) that the constraints DuckDB enforces on their model's
    table decide (see ENFORCING_MATERIALIZATIONS), or on the table downstream that their config names
    (DECIDED_BY_META), sorted."""
    nodes = getattr(manifest, "nodes", None) or {}
    by_name = {node.name: node for node in nodes.values() if node.resource_type == "model"}
    names = []
    for node in nodes.values():
        meta = getattr(node, "test_metadata", None)
        model = nodes.get(getattr(node, "attached_node", None) or "")
        if node.resource_type != "test" or meta is None or model is None or meta.namespace is not None:
            continue
        downstream = (node.config.meta or {}).get(DECIDED_BY_META)
        if downstream is not None:
            table = by_name.get(downstream)
            if (table is None or model.unique_id not in table.depends_on.nodes
                    or not decided(meta, node.column_name, *enforced_keys(table))):
                raise ProjectDefinitionError(f"test {node.name} ({node.original_file_path}): {DECIDED_BY_META}: "
                                             f"{downstream} does not enforce what the test checks")
            names.append(node.name)
            continue
        not_null, keys = enforced_keys(model)
        if decided(meta, node.column_name, not_null, keys):
            names.append(node.name)
    return sorted(names)


def manifest_fingerprint(manifest: object) -> str:
    """A digest of everything a build runs: node and unit-test SQL checksums, configs, macros of the project."""
    parts = []
    for group in ("nodes", "unit_tests", "sources"):
        for uid, node in sorted((getattr(manifest, group, None) or {}).items()):
            checksum = getattr(getattr(node, "checksum", None), "checksum", "")
            config = getattr(node, "config", None)
            settings_text = json.dumps(config.to_dict(), sort_keys=True, default=str) if config else ""
            parts.append(f"{uid}:{checksum}:{settings_text}")
    for uid, macro in sorted((getattr(manifest, "macros", None) or {}).items()):
        if macro.package_name == "halo":
            parts.append(f"{uid}:{hashlib.sha256(macro.macro_sql.encode()).hexdigest()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def dump_manifest(manifest: object) -> bytes:
    """A parsed manifest as bytes for another process: its public fields, pickled. (dbt's own
    Manifest.__reduce_ex__ passes its fields positionally and is out of step with them in dbt 1.11: an unpickled
    manifest can have one lookup in another's place.) The private lookups and lock are rebuilt on use."""
    return pickle.dumps({f.name: getattr(manifest, f.name) for f in dataclasses.fields(manifest)
                         if not f.name.startswith("_")})


def load_manifest(data: bytes) -> object:
    from dbt.contracts.graph.manifest import Manifest

    return Manifest(**pickle.loads(data))


# The parsed manifest of the last parse, kept in the target folder (pickled, as dump_manifest writes it) with a
# digest of everything a parse reads: the project's files (dbt_project.yml, profiles.yml and every file below its
# model, seed, macro, test, snapshot, analysis and docs paths), the target, the versions of dbt's packages (core,
# adapters, common, duckdb, spark) and Python's, and the values of the environment variables dbt recorded as read
# by the project's files. A halo process whose digest matches loads it (~0.15 s) instead of running dbt's parse
# (~1.5 s with its partial parse): the same manifest, since a parse reads nothing else (its profile values are
# fixed, see parse_project). Anything changed, and the next parse is dbt's again.
PARSE_CACHE_NAME = "halo-parsed-manifest.pickle"
PROJECT_PATH_KEYS = {"model-paths": ["models"], "seed-paths": ["seeds"], "macro-paths": ["macros"],
                     "test-paths": ["tests"], "snapshot-paths": ["snapshots"], "analysis-paths": ["analyses"],
                     "docs-paths": []}


def project_digest(target: str) -> str:
    """A digest of what a parse of the project for `target` reads (see PARSE_CACHE_NAME)."""
    import sys
    from importlib import metadata

    import yaml

    versions = []
    for package in ("dbt-core", "dbt-adapters", "dbt-common", "dbt-duckdb", "dbt-spark"):  # their macros and parsers
        try:
            versions.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package}=-")
    digest = hashlib.sha256(f"{target}|{'|'.join(versions)}|{sys.version}".encode())
    config = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text()) or {}
    files = [PROJECT_DIR / name for name in ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")]
    for key, default in PROJECT_PATH_KEYS.items():
        for folder in config.get(key) or default:
            files.extend(sorted(path for path in (PROJECT_DIR / folder).rglob("*") if path.is_file()))
    for path in files:
        if path.exists():
            digest.update(f"\0{path.relative_to(PROJECT_DIR)}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def parse_project(target: str, target_path: Path | None = None) -> object:
    """The parsed manifest for `target` (parse_project_state)."""
    return parse_project_state(target, target_path)[0]


def parse_project_state(target: str, target_path: Path | None = None) -> tuple[object, bytes]:
    """The parsed manifest for `target` and its dump_manifest bytes (as parsed): the kept one when nothing it was
    parsed from changed (PARSE_CACHE_NAME), else `dbt parse` in-process, kept for the next process.

    The same profile values for every parse, whatever the data folder: dbt keys its partial-parse state
    (partial_parse.msgpack in the target folder, still written; manifest.json is not) on the connection settings, so
    a later halo process, for any player and any HALO_DATA_DIR, parses only what changed (~1.5 s instead of ~6 s).
    Nothing is opened at parse time and no model reads these paths; builds set the real ones.
    """
    with gc_paused():
        from dbt.cli.main import dbtRunner

    parse_root = PROJECT_DIR / ".halo-parse"
    extra = ("--target-path", str(target_path)) if target_path is not None else ()
    cache = (target_path or target_dir()) / PARSE_CACHE_NAME
    digest = project_digest(target)
    with environment(HALO_DATA_DIR=str(parse_root), HALO_PLAYER_DB=str(parse_root / PLAYER_DB_NAME),
                     HALO_ARCHIVE_DIR=str(parse_root / "archive")):
        try:
            kept = pickle.loads(cache.read_bytes())
            if kept["digest"] == digest and all(os.environ.get(name) == value
                                                for name, value in kept["env_vars"].items()):
                with gc_paused():
                    return load_manifest(kept["manifest"]), kept["manifest"]
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, AttributeError, ImportError):
            pass  # none kept, or not readable by this version: parse
        log = InfoLog()
        try:
            result = dbtRunner(callbacks=[log]).invoke(dbt_args("parse", target, *extra, *lean_flags()))
        finally:
            log.close()
        if not result.success:
            raise RuntimeError(f"dbt parse failed: {result.exception}")
        manifest = result.result
        gc.collect()  # the parse's garbage, before freeze_once keeps what is left for good
        env_vars = {name: os.environ.get(name) for name in (getattr(manifest, "env_vars", None) or {})}
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    pristine = dump_manifest(manifest)
    partial.write_bytes(pickle.dumps({"digest": digest, "env_vars": env_vars, "manifest": pristine}))
    os.replace(partial, cache)
    return manifest, pristine


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a block that only creates objects that stay (dbt's import, the
    kept manifest's unpickling): it ran ~400 collections there, ~0.3 s of a `halo build`, and freed nothing."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_frozen = False


def freeze_once() -> None:
    """The first manifest of a process (a `halo` command has one) lives as long as the process: moved out of the
    collector's generations, so that the collections during the builds (dbt makes many short-lived objects) no longer
    walk its objects each time. Once per process: what is frozen is never collected, garbage of that moment too (a
    fresh parse collects its own first, parse_project_state)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


class DbtProject:
    """The dbt project, parsed once for the player target and reused for every player."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_dir()
        self._manifest = None
        self._fingerprint: str | None = None
        self._pristine = b""
        self._decided: list[str] | None = None
        self._update_when_changed: dict[str, list[str]] | None = None
        # dbt's compiled/run SQL of this process's builds (`--target-path`); None = the target folder. Parallel
        # build workers each get their own, so two processes never write the same file.
        self.artifacts_dir: Path | None = None

    def parsed_state(self) -> tuple[bytes, str]:
        """The parsed manifest (pickled, as parsed: before any run) and its fingerprint, for a build worker."""
        self.manifest()
        return self._pristine, self._fingerprint or ""

    @classmethod
    def from_parsed_state(cls, root: Path, state: tuple[bytes, str]) -> "DbtProject":
        """The project in a build worker: the parent's parse, not a parse of its own."""
        project = cls(root)
        with gc_paused():
            project._manifest = load_manifest(state[0])
        project._pristine, project._fingerprint = state
        freeze_once()
        return project

    def _env(self, player_db: Path) -> dict[str, str]:
        return {"HALO_DATA_DIR": str(self.root), "HALO_PLAYER_DB": str(player_db),
                "HALO_ARCHIVE_DIR": str(player_db.parent / "archive")}

    def build_metadata(self) -> BuildOutcome:
        """`dbt build --target metadata` (its own parse: other models are enabled on that target).

        It writes to target/metadata/: dbt keeps one partial-parse state per target folder, and a metadata
        parse in target/ would make the next player build parse the project from scratch (~5 s).
        """
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        # dbt's console lines off, as for players (the outcome carries the errors; dbt's file log, logs/dbt.log, all
        # of it): a failed metadata build is a few lines of `halo build`, not dbt's output
        with environment(HALO_DATA_DIR=str(self.root), HALO_PLAYER_DB=str(self.root / "unused" / PLAYER_DB_NAME)):
            try:
                result = dbtRunner().invoke(dbt_args("build", "metadata", "--target-path",
                                                     str(target_dir() / "metadata"), "--log-level", "none"))
            finally:
                release_duckdb()
        return summarise("metadata", result, started)

    def manifest(self) -> object:
        """Parse the project for the player target once."""
        if self._manifest is None:
            # fingerprinted and kept (dump_manifest's bytes) as parsed: a run mutates the manifest's nodes (compiled
            # SQL, relation names)
            self._manifest, self._pristine = parse_project_state("player")
            self._fingerprint = manifest_fingerprint(self._manifest)
            freeze_once()
        return self._manifest

    def decided_tests(self) -> list[str]:
        """The data tests a full `halo build` leaves out (tests_decided_by_constraints), computed once."""
        if self._decided is None:
            self._decided = tests_decided_by_constraints(self.manifest())
        return self._decided

    def compiled_tests(self, player_db: Path) -> data_tests.CompiledTests:
        """The kept compiled SQL of the data tests of this project version, for player files named like this one."""
        self.manifest()
        key = data_tests.cache_key(self._fingerprint or "", f"player-{player_db.stem}", PROJECT_DIR / "profiles.yml")
        return data_tests.CompiledTests(target_dir(), key)

    def batched_tests(self, compiled: data_tests.CompiledTests) -> dict[str, str]:
        """unique_id -> compiled SQL of the data tests a full build counts in one query: those kept, batchable,
        and neither decided by constraints nor reference_data."""
        nodes = self.manifest().nodes
        decided = set(self.decided_tests())
        return {uid: sql for uid, sql in sorted(compiled.sql.items())
                if uid in nodes and data_tests.batchable(nodes[uid]) and nodes[uid].name not in decided
                and "reference_data" not in nodes[uid].tags}

    def update_when_changed(self) -> dict[str, list[str]]:
        """Model name -> the raw tables (`schema.identifier` of its halo sources) of the models an update leaves out
        while those tables are unchanged (UPDATE_WHEN_CHANGED_META); computed once."""
        if self._update_when_changed is not None:
            return self._update_when_changed
        manifest = self.manifest()
        nodes, sources = manifest.nodes, manifest.sources

        def raw_tables(uid: str, seen: set[str]) -> set[str]:
            if uid in sources:
                source = sources[uid]
                return {f"{source.schema}.{source.identifier}"} if source.package_name == "halo" \
                    and source.source_name == "halo" else set()
            found: set[str] = set()
            for parent in nodes[uid].depends_on.nodes if uid in nodes else ():
                if parent not in seen:
                    seen.add(parent)
                    found |= raw_tables(parent, seen)
            return found

        self._update_when_changed = {
            node.name: sorted(raw_tables(uid, set())) for uid, node in sorted(nodes.items())
            if node.resource_type == "model" and (node.config.meta or {}).get(UPDATE_WHEN_CHANGED_META)}
        return self._update_when_changed

    def input_digests(self, player_db: Path, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, str]:
        """raw table -> digest of its rows, for the tables of update_when_changed; {} when one cannot be read.
        Read through `con` when given (left open), else a read-only connection of its own."""
        tables = sorted({table for names in self.update_when_changed().values() for table in names})
        digests = {}
        own = con is None
        if con is None:
            try:
                con = duckdb.connect(str(player_db), read_only=True)
            except duckdb.Error:
                return {}
        try:
            for table in tables:
                schema, name = table.split(".", 1)
                count, total = con.execute(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{schema}"."{name}" '
                                           "AS t").fetchone()
                digests[table] = f"{count}:{total}"
            present = {f"{schema}.{name}" for schema, name in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
        except duckdb.Error:
            return {}
        finally:
            if own:
                con.close()
        models = {node.name: f"{node.schema}.{node.alias}" for node in self.manifest().nodes.values()
                  if node.resource_type == "model"}
        digests.update({f"model:{name}": "present" for name in self.update_when_changed() if models[name] in present})
        return digests

    def unchanged_models(self, now: dict[str, str], kept_path: Path) -> list[str]:
        """The models an update can leave out: their table is in the file and their raw tables' digests equal those
        kept at the last successful build."""
        try:
            kept = json.loads(kept_path.read_text())
        except (OSError, ValueError):
            return []
        if not now:
            return []
        return sorted(name for name, tables in self.update_when_changed().items()
                      if now.get(f"model:{name}") == "present"
                      and all(table in now and kept.get(table) == now[table] for table in tables))

    def tests_in_dbt(self, batched: dict[str, str]) -> list[str]:
        """Names of the data tests a full build runs as dbt nodes: neither reference_data, nor decided by
        constraints, nor counted in the query (`batched`)."""
        decided = set(self.decided_tests())
        return sorted(node.name for uid, node in self.manifest().nodes.items()
                      if node.resource_type == "test" and node.config.enabled and "reference_data" not in node.tags
                      and node.name not in decided and uid not in batched)

    def run_batched_tests(self, result: object, batched: dict[str, str], player_db: Path,
                          run_options: Sequence[str], log: "InfoLog",
                          con: duckdb.DuckDBPyConnection | None = None) -> None:
        """Count the batched tests' rows after dbt built the models (data_tests.py) and add their results to
        dbt's: a pass for every test that found no row, dbt's own `dbt test` result for every other. A test is
        skipped, as dbt skips it, when a model it reads did not build."""
        from dbt.cli.main import dbtRunner

        run = getattr(result, "result", None)
        if not batched or run is None or not hasattr(run, "results"):
            return
        nodes = self.manifest().nodes
        status = {r.node.unique_id: getattr(r.status, "value", r.status) for r in run.results}
        ready = {uid: sql for uid, sql in batched.items()
                 if all(status.get(parent, "success") == "success" for parent in nodes[uid].depends_on.nodes)}
        started = time.perf_counter()
        try:
            counts = data_tests.count_failures(player_db, metadata_db_path(self.root), ready, con)
        except duckdb.Error:  # dbt says which test and why
            counts = dict.fromkeys(ready, 1)
        seconds = time.perf_counter() - started
        failing = [uid for uid, rows in counts.items() if rows]
        more = data_tests.passed_results((nodes[uid] for uid in ready if uid not in failing), seconds)
        more += data_tests.skipped_results(nodes[uid] for uid in batched if uid not in ready)
        if failing:
            again = dbtRunner(manifest=self.manifest(), callbacks=[log]).invoke(
                dbt_args("test", "player", "--select", *(nodes[uid].name for uid in failing), *run_options,
                         *lean_flags()))
            release_duckdb()
            more += list(getattr(again.result, "results", None) or [])
            result.success = result.success and again.success  # type: ignore[attr-defined]
            if again.exception is not None and result.exception is None:  # type: ignore[attr-defined]
                result.exception = again.exception  # type: ignore[attr-defined]
        run.results = [*run.results, *more]

    def fingerprint(self) -> str:
        """What a player's last full build must match for an update to do: the parsed project and the
        reference data it was built against (new names change every row)."""
        self.manifest()
        stamp = metadata_db_path(self.root).parent / METADATA_FINGERPRINT_NAME
        return f"{self._fingerprint}:{stamp.read_text().strip() if stamp.exists() else ''}"

    def build_player(self, name: str, player_db: Path, extra: Sequence[str] = (), full: bool = False,
                     inputs: dict[str, str] | None = None,
                     con: duckdb.DuckDBPyConnection | None = None) -> BuildOutcome:
        """`dbt build --target player` for one player's file, in-process, reusing the parsed manifest.

        An update (see BUILD_STATE_NAME) when the player was fully built by this same project and `full` is not
        asked for. Unit tests are not part of it (they do not read the player's data; see lean_flags too).
        `inputs`: input_digests of the file, read just before (build_one's busy check), else read here.
        `con`: a connection of this process to `player_db` that stays open during the build (build_one's, opened
        with dbt-duckdb's config: dbt's connection shares its database instance); halo's own reads of the file
        (input digests, the batched tests) then go through it, since DuckDB refuses a second connection to an open
        file with another configuration (read-only).
        """
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        if not player_db.exists():
            return BuildOutcome(name=name, errors=[f"no database at {player_db}: load the player's matches first"])
        manifest = self.manifest()
        state = player_db.parent / BUILD_STATE_NAME
        full = full or settings.build_full
        # Built before by another project version or against other reference data: incremental marts would
        # keep old rows (old names, old logic), so everything is rebuilt from the raw layer.
        stale = state.exists() and state.read_text().strip() != self.fingerprint()
        update = not full and not extra and state.exists() and not stale
        threads = settings.dbt_threads or (UPDATE_THREADS if update else PLAYER_THREADS)
        run_options = ("--threads", str(threads))
        if self.artifacts_dir is not None:
            run_options += ("--target-path", str(self.artifacts_dir))
        batched: dict[str, str] = {}
        inputs_path = player_db.parent / INPUTS_STATE_NAME
        if extra:
            inputs = {}
        elif not inputs:
            inputs = self.input_digests(player_db, con)
        if update:
            unchanged = self.unchanged_models(inputs, inputs_path)
            leave_out = ("--exclude", *unchanged) if unchanged else ()
            args = dbt_args("run", "player", "--select", *UPDATE_SELECT, *leave_out, *run_options, *lean_flags())
        else:
            # unit tests read fixed fixtures, never the player's data, and the reference_data tests check the shared
            # metadata tables again (the metadata build tests them): `halo build` leaves both to the test suite and
            # to `dbt build` / `dbt test` from the shell (README, Building)
            # and leaves out the tests that DuckDB's constraints decide (tests_decided_by_constraints): every table is
            # created by this build (--full-refresh), with its constraints; the tests whose compiled SQL is kept
            # run after the models, in one query (data_tests.py)
            excludes: tuple[str, ...] = ()
            if not extra:
                compiled = self.compiled_tests(player_db)
                batched = self.batched_tests(compiled)
                if self.tests_in_dbt(batched):
                    excludes = ("--exclude-resource-type", "unit_test", "--exclude", "tag:reference_data",
                                *self.decided_tests(), *(manifest.nodes[uid].name for uid in batched))
                else:  # all left out or counted: select by resource type alone (dbt matches each name of an
                    # --exclude list against every node, three times a build: ~0.5 s for these 129 names)
                    excludes = ("--exclude-resource-type", "unit_test", "test")
            refresh = ("--full-refresh",) if not extra else ()
            args = dbt_args("build", "player", *run_options, *excludes, *refresh, *lean_flags(), *extra)
            state.unlink(missing_ok=True)  # a failed full build must not leave an old state behind
        inputs_path.unlink(missing_ok=True)  # nor a failed build its inputs: written again when it succeeds
        log = InfoLog()
        with environment(**self._env(player_db)):
            try:
                result = dbtRunner(manifest=manifest, callbacks=[log]).invoke(args)
                release_duckdb()
                if not update and not extra:
                    self.run_batched_tests(result, batched, player_db, run_options, log, con)
                    compiled.keep(getattr(result.result, "results", None) or [],
                                  data_tests.private_paths(player_db.parent, self.root))
            finally:
                log.close()
                release_duckdb()
        write_run_results(result)
        outcome = summarise(name, result, started)
        if update and not outcome.success:
            # e.g. the player's file was recreated since its last build: views are missing; build it fully
            retry = self.build_player(name, player_db, extra, full=True, con=con)
            retry.seconds = time.perf_counter() - started
            retry.notes.append("update failed, built fully: " + "; ".join(outcome.errors[:3]))
            return retry
        outcome.mode = "update" if update else "full"
        if outcome.success and not update and not extra:
            write_text_replacing(state, self.fingerprint())  # never a half-written file (disk full)
        if outcome.success and inputs:
            write_text_replacing(inputs_path, json.dumps(inputs, sort_keys=True))
        return outcome

    def build_warehouse(self, full: bool = False, owners: Sequence[int] = ()) -> BuildOutcome:
        """`dbt build --target warehouse`: every mart of every tracked player in HALO_DATA_DIR/warehouse/
        warehouse.duckdb, from the lake (the raw views exist: build.build_warehouse creates them).

        Its own parse and target folder (target/warehouse/: its partial-parse state, compiled SQL and
        run_results.json), as the metadata build. A full build (`--full-refresh`) when asked, when the warehouse was
        never built successfully or was built by another project version, against other reference data or for other
        tracked players (`owners`; the
        state file beside it, as for players); else an update, as for a player: the tables, incremental marts (the
        changed matches) and the season archive.
        """
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        folder = target_dir() / "warehouse"
        state = self.root / "warehouse" / WAREHOUSE_STATE_NAME
        # its own parse (the player target's names every relation in database `stats`), in its own target folder
        manifest = parse_project("warehouse", folder)
        stamp = metadata_db_path(self.root).parent / METADATA_FINGERPRINT_NAME
        # the tracked players too: a player added (whose loads may be older than the last build) or removed is a
        # full build, never an update that would miss or keep their rows
        fingerprint = (f"{manifest_fingerprint(manifest)}:{stamp.read_text().strip() if stamp.exists() else ''}:"
                       + ",".join(str(x) for x in sorted(owners)))
        full = full or settings.build_full or not state.exists() or state.read_text().strip() != fingerprint
        threads = settings.dbt_threads or PLAYER_THREADS
        options = ("--target-path", str(folder), "--threads", str(threads), *lean_flags())
        if full:
            args = dbt_args("build", "warehouse", "--exclude-resource-type", "unit_test", "--exclude",
                            "tag:reference_data", "--full-refresh", *options)
        else:  # an update, as a player's: the models holding data, not the views, no tests (BUILD_STATE_NAME)
            args = dbt_args("run", "warehouse", "--select", *UPDATE_SELECT, *options)
        with environment(HALO_DATA_DIR=str(self.root)):
            log = InfoLog()
            try:
                state.unlink(missing_ok=True)  # a failed build must not leave an old state behind
                result = dbtRunner(manifest=manifest, callbacks=[log]).invoke(args)
            finally:
                log.close()
                release_duckdb()
        write_run_results(result, folder)
        outcome = summarise("warehouse", result, started)
        outcome.mode = "full" if full else "update"
        if outcome.success:
            write_text_replacing(state, fingerprint)
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
