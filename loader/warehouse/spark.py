"""The `spark` dbt target: Apache Spark (dbt-spark, `method: session`) over the Parquet lake.

dbt-spark's session method runs Spark inside the dbt process (`SparkSession.builder.getOrCreate()` on every
statement, with the profile's `server_side_parameters` as the session's configuration). Before dbt runs, this module
starts that same session, from the same profile entry (profiles.yml, target `spark`: one place for the settings),
and creates the sources dbt reads: one view per lake folder,

- `raw.<table>` over `HALO_DATA_DIR/warehouse/lake/<table>/` (written by `halo lake`, loader/warehouse/lake.py),
  selecting the raw table's columns by name, cast back to the raw table's types (loader/ingest/raw_tables.py: the
  lake may store integers narrower); the Hive partition columns (`player`, `year`, `month`) are left out;
- `meta.<table>` over `HALO_DATA_DIR/warehouse/lake/meta/<table>/` (the reference data of metadata.duckdb).

Why Python and not an on-run-start macro: the column types live in Python (the lake's columns, from
raw_tables.SCHEMAS, the loader's one definition of the raw layer), and a view must be created differently when a
lake folder has no file yet (no film events loaded: Spark cannot read the schema of an empty folder), which only a
look at the file system tells.
The views are persistent (Hive metastore) and read the folder at each query (`parquet.\\`path\\``): files the lake
adds later are seen without re-creating them, so `dbt build --target spark` from the shell works once a build made
them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loader.core.errors import SparkUnavailableError
from loader.core.paths import data_dir
from loader.core.resources import write_text_replacing
from loader.warehouse.dbt_runner import (
    PROJECT_DIR,
    BuildOutcome,
    InfoLog,
    dbt_args,
    environment,
    lean_flags,
    summarise,
    target_dir,
    write_run_results,
)
from loader.warehouse.lake import MATCH_LEVEL, PER_OWNER, lake_columns, lake_dir

# The lake's DuckDB types (loader/warehouse/lake.py, the contract's one definition) as Spark SQL types.
_SPARK_TYPES = {"VARCHAR": "STRING", "BLOB": "BINARY"}


def spark_dir(root: Path | None = None) -> Path:
    """The Spark warehouse's own files: tables (warehouse/), Hive metastore (metastore/), derby.log."""
    return (root or data_dir()) / "warehouse" / "spark"


def source_columns(table: str) -> dict[str, str]:
    """Column -> Spark SQL type of the `raw.<table>` view: the lake table's columns (`owner_xuid` first for the
    per-owner tables), typed as the raw table."""
    return {name: _SPARK_TYPES.get(kind, kind) for name, kind in lake_columns(table).items()}


def quote_path(path: Path) -> str:
    """A folder as Spark SQL's file relation, `parquet.\\`...\\`` (a backtick inside is doubled)."""
    return "parquet.`" + str(path).replace("`", "``") + "`"


def has_parquet(folder: Path) -> bool:
    return folder.is_dir() and any(folder.rglob("*.parquet"))


def view_body(folder: Path, columns: dict[str, str]) -> str:
    """The query of a lake view: the folder's Parquet files, or with no file yet the same columns and no row."""
    if has_parquet(folder):
        select = ",\n    ".join(f"CAST(`{c}` AS {t}) AS `{c}`" for c, t in columns.items())
        return f"SELECT\n    {select}\nFROM {quote_path(folder)}"
    select = ",\n    ".join(f"CAST(NULL AS {t}) AS `{c}`" for c, t in columns.items())
    return f"SELECT\n    {select}\nWHERE 1 = 0"


def source_views(root: Path | None = None) -> dict[str, str]:
    """`schema.table` -> the query of every source view of the spark target."""
    lake = lake_dir(root)
    views = {f"raw.{table}": view_body(lake / table, source_columns(table)) for table in [*PER_OWNER, *MATCH_LEVEL]}
    meta = lake / "meta"
    for folder in sorted(meta.iterdir()) if meta.is_dir() else []:
        if has_parquet(folder):
            views[f"meta.{folder.name}"] = f"SELECT * FROM {quote_path(folder)}"
    return views


def java_available() -> bool:
    return bool(os.environ.get("JAVA_HOME") or shutil.which("java"))


def spark_settings(project_dir: Path) -> dict[str, str]:
    """The `spark` target's `server_side_parameters`, rendered the way dbt renders them (env_var, HALO_DATA_DIR)."""
    from dbt.config.profile import read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    set_invocation_context(dict(os.environ))
    raw: dict[str, Any] = read_profile(str(project_dir))
    target = ProfileRenderer({}).render_data(raw["halo"]["outputs"]["spark"])
    return {str(k): str(v) for k, v in target.get("server_side_parameters", {}).items()}


def spark_session(project_dir: Path, root: Path | None = None) -> Any:
    """The SparkSession dbt-spark will use (getOrCreate: the same one), started with the profile's settings."""
    if not java_available():
        raise SparkUnavailableError("no Java runtime (java on PATH or JAVA_HOME): install OpenJDK 17, e.g. "
                                    "`apt-get install openjdk-17-jre-headless` (python3 run.py setup does it as root)")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailableError("pyspark is not installed: pip install -e '.[spark]' "
                                    "(python3 run.py setup installs it)") from exc
    spark_dir(root).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_settings(project_dir).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def existing_views(session: Any) -> set[str]:
    """`schema.table` of the relations in schemas raw and meta (names only: SHOW TABLES reads no table's details)."""
    names = set()
    for schema in ("raw", "meta"):
        if session.catalog.databaseExists(schema):
            names |= {f"{schema}.{row['tableName']}" for row in session.sql(f"SHOW TABLES IN {schema}").collect()}
    return names


SOURCES_STAMP = "sources.sha256"  # in spark_dir: the fingerprint of the source views last created


def create_spark_sources(project_dir: Path, root: Path | None = None) -> Any:
    """Start the session and (re)create the lake views unless the same ones were created last time (the stamp in
    spark_dir: a view's creation reads the schema of its files, a Spark job each, seconds on a small machine);
    returns the session (left running: dbt reuses it)."""
    session = spark_session(project_dir, root)
    views = source_views(root)
    fingerprint = hashlib.sha256(json.dumps(views, sort_keys=True).encode()).hexdigest()
    stamp = spark_dir(root) / SOURCES_STAMP
    if stamp.exists() and stamp.read_text().strip() == fingerprint and set(views) <= existing_views(session):
        return session
    stamp.unlink(missing_ok=True)
    session.sql("CREATE DATABASE IF NOT EXISTS raw")
    session.sql("CREATE DATABASE IF NOT EXISTS meta")
    for name, body in views.items():
        schema, table = name.split(".")
        session.sql(f"CREATE OR REPLACE VIEW {schema}.`{table}` AS\n{body}")
    write_text_replacing(stamp, fingerprint)
    return session


def build_spark(root: Path | None = None, command: str = "build", extra: Sequence[str] = ()) -> BuildOutcome:
    """`dbt <command> --target spark` in this process, after (re)creating the lake views: every mart of every
    tracked player in Spark's schema `halo`. Its own target folder (target/spark/: partial-parse state, compiled
    SQL, run_results.json). Unit tests are left out (they test the models' logic, engine-free, with every DuckDB
    build); `command` "run" leaves the data tests out too; `extra`: dbt arguments instead of the default
    `--exclude tag:reference_data` (the tests of the metadata's renaming views, as `halo build` leaves them out).
    Always a full build (macros/materializations/spark.sql). The lake must exist (`halo lake`)."""
    from dbt.cli.main import dbtRunner

    root = (root or data_dir()).resolve()
    started = time.perf_counter()
    folder = target_dir() / "spark"
    with environment(HALO_DATA_DIR=str(root)):
        if not (lake_dir(root) / "owner").is_dir():
            return BuildOutcome(name="spark", errors=[f"no lake in {lake_dir(root)}: run `halo lake` first"])
        create_spark_sources(PROJECT_DIR, root)
        log = InfoLog()
        try:
            unit_tests = ("--exclude-resource-type", "unit_test") if command == "build" else ()
            args = dbt_args(command, "spark", "--target-path", str(folder), *unit_tests,
                            *(extra or ("--exclude", "tag:reference_data")), *lean_flags())
            result = dbtRunner(callbacks=[log]).invoke(args)
        finally:
            log.close()
    write_run_results(result, folder)
    return summarise("spark", result, started)
