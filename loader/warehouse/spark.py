"""The `spark` dbt target: Apache Spark (dbt-spark, `method: session`) over the Parquet lake.

dbt-spark's session method runs Spark inside the dbt process (`SparkSession.builder.getOrCreate()` on every
statement, with the profile's `server_side_parameters` as the session's configuration). Before dbt runs, this module
starts that same session, from the same profile entry (profiles.yml, target `spark`: one place for the settings),
and creates the sources dbt reads: one view per lake folder,

- `raw.<table>` over `HALO_DATA_DIR/warehouse/lake/<table>/` (docs: LAKE_CONTRACT in the README's "Parquet lake"),
  selecting the raw table's columns by name, cast back to the raw table's types (loader/ingest/raw_tables.py: the
  lake may store integers narrower); the Hive partition columns (`player`, `year`, `month`) are left out;
- `meta.<table>` over `HALO_DATA_DIR/warehouse/lake/meta/<table>/` (the reference data of metadata.duckdb).

Why Python and not an on-run-start macro: the column types live in Python (raw_tables.SCHEMAS, the loader's one
definition of the raw layer), and a view must be created differently when a lake folder has no file yet (an owner
without film events: Spark cannot read the schema of an empty folder), which only a look at the file system tells.
The views are persistent (Hive metastore) and read the folder at each query (`parquet.\\`path\\``): files the lake
adds later are seen without re-creating them, so `dbt build --target spark` from the shell works once a build made
them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from loader.core.errors import SparkUnavailableError
from loader.core.paths import data_dir
from loader.ingest.raw_tables import SCHEMAS

# The raw tables whose rows belong to one owner: the lake adds `owner_xuid` as their first column.
PER_OWNER_TABLES = ("owner", "documents", "match_history", "career_rank_snapshots", "service_record_snapshots",
                    "playlist_csr_snapshots")
# raw.owner is created by its own statement (raw_tables.create_statements), not from SCHEMAS.
OWNER_COLUMNS: dict[str, pl.DataType] = {"xuid": pl.Int64(), "gamertag": pl.Utf8(), "player_dir": pl.Utf8(),
                                         "created_at": pl.Datetime("us")}
# Columns the lake does not carry or the models never read: the document bodies stay in the player files.
LEFT_OUT = {"documents": ("body",)}
# Tables of the raw layer that are not sources of the models (the loader's own bookkeeping).
NOT_SOURCES = ("rejected",)

_SPARK_TYPES = {
    pl.Utf8: "STRING", pl.Int64: "BIGINT", pl.Int32: "INT", pl.Int16: "SMALLINT", pl.Int8: "TINYINT",
    pl.Float64: "DOUBLE", pl.Float32: "FLOAT", pl.Boolean: "BOOLEAN", pl.Binary: "BINARY",
    pl.Datetime: "TIMESTAMP", pl.Date: "DATE",
}


def lake_dir(root: Path | None = None) -> Path:
    return (root or data_dir()) / "warehouse" / "lake"


def spark_dir(root: Path | None = None) -> Path:
    """The Spark warehouse's own files: tables (warehouse/), Hive metastore (metastore/), derby.log."""
    return (root or data_dir()) / "warehouse" / "spark"


def source_columns(table: str) -> dict[str, str]:
    """Column -> Spark SQL type of the `raw.<table>` view, in the raw table's order (`owner_xuid` first for the
    per-owner tables)."""
    schema = OWNER_COLUMNS if table == "owner" else SCHEMAS[table]
    columns = {"owner_xuid": "BIGINT"} if table in PER_OWNER_TABLES else {}
    for name, dtype in schema.items():
        if name not in LEFT_OUT.get(table, ()):
            columns[name] = _SPARK_TYPES[type(dtype)]
    return columns


def source_tables() -> list[str]:
    return ["owner", *(t for t in SCHEMAS if t not in NOT_SOURCES)]


def quote_path(path: Path) -> str:
    """A folder as Spark SQL's file relation, `parquet.\\`...\\`` (a backtick inside is doubled)."""
    return "parquet.`" + str(path).replace("`", "``") + "`"


def has_parquet(folder: Path) -> bool:
    return folder.is_dir() and any(folder.rglob("*.parquet"))


def view_sql(schema: str, table: str, folder: Path, columns: dict[str, str]) -> str:
    """`raw.<table>` as a view over the folder's Parquet files; with no file yet, the same columns and no row."""
    if has_parquet(folder):
        select = ",\n    ".join(f"CAST(`{c}` AS {t}) AS `{c}`" for c, t in columns.items())
        body = f"SELECT\n    {select}\nFROM {quote_path(folder)}"
    else:
        select = ",\n    ".join(f"CAST(NULL AS {t}) AS `{c}`" for c, t in columns.items())
        body = f"SELECT\n    {select}\nWHERE 1 = 0"
    return f"CREATE OR REPLACE VIEW {schema}.`{table}` AS\n{body}"


def source_statements(root: Path | None = None) -> list[str]:
    """The SQL that (re)creates every source of the spark target (idempotent)."""
    lake = lake_dir(root)
    statements = ["CREATE DATABASE IF NOT EXISTS raw", "CREATE DATABASE IF NOT EXISTS meta"]
    statements += [view_sql("raw", table, lake / table, source_columns(table)) for table in source_tables()]
    meta = lake / "meta"
    for folder in sorted(meta.iterdir()) if meta.is_dir() else []:
        if has_parquet(folder):
            statements.append(f"CREATE OR REPLACE VIEW meta.`{folder.name}` AS SELECT * FROM {quote_path(folder)}")
    return statements


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


def create_spark_sources(project_dir: Path, root: Path | None = None) -> Any:
    """Start the session and (re)create the lake views; returns the session (left running: dbt reuses it)."""
    session = spark_session(project_dir, root)
    for statement in source_statements(root):
        session.sql(statement)
    return session
