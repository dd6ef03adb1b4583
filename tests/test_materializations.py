"""The project's lean materializations (macros/materializations/: halo_table, halo_view, halo_incremental,
halo_external) in a tiny dbt project of their own, run with the real
`dbt` CLI against a real DuckDB file: contracts are still enforced (the table is checked after it is created, in
the same transaction), the yml's column order wins, a failing build keeps the old table, and the lean `external`
writes the Parquet files and the view dbt-duckdb's would, including for a query with no rows.

Expected values are written by hand for these few rows.
"""

import os
import subprocess
import textwrap
from pathlib import Path

import duckdb
import pytest
from conftest import ROOT

DBT = ROOT / ".venv" / "bin" / "dbt"

PROJECT = """
name: mat_check
version: "1.0"
config-version: 2
profile: mat_check
model-paths: [models]
macro-paths: [macros]
models:
  mat_check:
    +materialized: halo_table
"""

PROFILE = """
mat_check:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{db}"
      threads: 1
      external_root: "{archive}"
"""

# The contract lists the columns in another order than the query (name before id).
CONTRACT_YML = """
version: 2
models:
  - name: people
    config:
      contract: {{enforced: true}}
    columns:
      - name: name
        data_type: varchar
      - name: id
        data_type: {id_type}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    # the project's materializations, as they are (a link, not a copy)
    (tmp_path / "macros").symlink_to(ROOT / "macros" / "materializations", target_is_directory=True)
    (tmp_path / "dbt_project.yml").write_text(PROJECT)
    (tmp_path / "profiles.yml").write_text(PROFILE.format(db=tmp_path / "warehouse.duckdb",
                                                          archive=tmp_path / "archive"))
    return tmp_path


def write(project: Path, name: str, text: str) -> None:
    (project / "models" / name).write_text(textwrap.dedent(text))


def dbt(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_TARGET_PATH": str(project / "target"),
           "DBT_LOG_PATH": str(project / "logs")}
    return subprocess.run([str(DBT), *args, "--project-dir", str(project), "--profiles-dir", str(project)],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)


def rows(project: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def columns(project: Path, table: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in rows(project, "SELECT column_name, data_type FROM information_schema.columns "
                                            f"WHERE table_name = '{table}' ORDER BY ordinal_position")]


def test_contracted_table_follows_the_yml_and_a_broken_contract_keeps_the_old_table(project: Path) -> None:
    write(project, "people.sql", "select 1::integer as id, 'Ann' as name union all select 2, 'Bo'")
    write(project, "people.yml", CONTRACT_YML.format(id_type="integer"))
    run = dbt(project, "run")
    assert run.returncode == 0, run.stdout[-3000:]
    assert columns(project, "people") == [("name", "VARCHAR"), ("id", "INTEGER")]  # the yml's order
    assert sorted(rows(project, "SELECT name, id FROM people")) == [("Ann", 1), ("Bo", 2)]

    # a type the contract does not allow: the run fails with dbt's contract error and the old table stays
    write(project, "people.sql", "select 3::bigint as id, 'Cy' as name")
    run = dbt(project, "run")
    assert run.returncode == 1
    assert "contract" in run.stdout.lower() and "bigint" in run.stdout.lower(), run.stdout[-3000:]
    assert sorted(rows(project, "SELECT name, id FROM people")) == [("Ann", 1), ("Bo", 2)]

    # a column the yml does not list is an error too (it is not silently dropped)
    write(project, "people.sql", "select 3::integer as id, 'Cy' as name, true as extra")
    run = dbt(project, "run")
    assert run.returncode == 1
    assert "extra" in run.stdout, run.stdout[-3000:]
    assert sorted(rows(project, "SELECT name, id FROM people")) == [("Ann", 1), ("Bo", 2)]


def test_external_writes_partitioned_parquet_and_a_view_also_without_rows(project: Path) -> None:
    write(project, "archive.sql", """
        {{ config(materialized='halo_external', format='parquet', location="{{ adapter.external_root() }}",
                  options={'partition_by': 'season', 'overwrite': true, 'filename_pattern': "'part_{i}'"}) }}
        select * from (values (1, 'S1'), (2, 'S1'), (3, 'S2')) as t(id, season)
        """)
    run = dbt(project, "run")
    assert run.returncode == 0, run.stdout[-3000:]
    archive = project / "archive"
    assert sorted(p.relative_to(archive).as_posix() for p in archive.rglob("*.parquet")) == [
        "season=S1/part_0.parquet", "season=S2/part_0.parquet"]
    assert sorted(rows(project, "SELECT id, season FROM archive")) == [(1, "S1"), (2, "S1"), (3, "S2")]
    assert rows(project, "SELECT table_type FROM information_schema.tables WHERE table_name = 'archive'") == [
        ("VIEW",)]

    # no rows: the old files are gone (OVERWRITE), and the view still has the model's columns
    write(project, "archive.sql", """
        {{ config(materialized='halo_external', format='parquet', location="{{ adapter.external_root() }}",
                  options={'partition_by': 'season', 'overwrite': true, 'filename_pattern': "'part_{i}'"}) }}
        select * from (values (1, 'S1')) as t(id, season) where id > 1
        """)
    run = dbt(project, "run")
    assert run.returncode == 0, run.stdout[-3000:]
    assert list(archive.rglob("*.parquet")) == []
    assert rows(project, "SELECT count(*) FROM archive") == [(0,)]
    assert columns(project, "archive") == [("id", "INTEGER"), ("season", "VARCHAR")]


CHANGED_PARTITIONS_MODEL = """
    {{{{ config(materialized='halo_external', format='parquet', location="{{{{ adapter.external_root() }}}}",
              options={{'partition_by': 'season', 'overwrite': true, 'filename_pattern': "'part_{{i}}'"}},
              halo_write_changed_partitions=true) }}}}
    select * from (values {values}) as t({columns})
    """


def parquet_files(archive: Path) -> dict[str, tuple[int, bytes]]:
    """season folder -> (modification time in ns, bytes) of its one file."""
    files = {}
    for path in archive.rglob("*.parquet"):
        assert path.name == "part_0.parquet", path
        files[path.parent.name] = (path.stat().st_mtime_ns, path.read_bytes())
    return files


def test_external_with_changed_partitions_writes_only_the_seasons_whose_rows_changed(project: Path) -> None:
    """halo_write_changed_partitions: a run of a model built before rewrites the partitions whose rows changed and
    writes a new one; the others' files are not touched (same modification time, same bytes). A partition that
    disappears, or a full refresh, rewrites the whole location."""
    archive = project / "archive"
    write(project, "archive.sql", CHANGED_PARTITIONS_MODEL.format(
        values="(1, 'a', 'S1'), (2, 'b', 'S1'), (3, 'c', 'S2'), (4, 'd', 'S3')", columns="id, label, season"))
    assert (run := dbt(project, "run")).returncode == 0, run.stdout[-3000:]
    first = parquet_files(archive)
    assert sorted(first) == ["season=S1", "season=S2", "season=S3"]

    # S2's one row changes, S4 is new: those two are written, S1 and S3 stay as they were
    write(project, "archive.sql", CHANGED_PARTITIONS_MODEL.format(
        values="(1, 'a', 'S1'), (2, 'b', 'S1'), (3, 'c2', 'S2'), (4, 'd', 'S3'), (5, 'e', 'S4')",
        columns="id, label, season"))
    assert (run := dbt(project, "run")).returncode == 0, run.stdout[-3000:]
    second = parquet_files(archive)
    assert sorted(second) == ["season=S1", "season=S2", "season=S3", "season=S4"]
    assert second["season=S1"] == first["season=S1"] and second["season=S3"] == first["season=S3"]
    assert second["season=S2"][0] != first["season=S2"][0]
    assert sorted(rows(project, "SELECT id, label, season FROM archive")) == [
        (1, "a", "S1"), (2, "b", "S1"), (3, "c2", "S2"), (4, "d", "S3"), (5, "e", "S4")]

    # nothing changed: nothing is written
    assert (run := dbt(project, "run")).returncode == 0, run.stdout[-3000:]
    assert parquet_files(archive) == second

    # S3 has no rows any more: its folder goes, as the whole location is rewritten
    write(project, "archive.sql", CHANGED_PARTITIONS_MODEL.format(
        values="(1, 'a', 'S1'), (2, 'b', 'S1'), (3, 'c2', 'S2'), (5, 'e', 'S4')", columns="id, label, season"))
    assert (run := dbt(project, "run")).returncode == 0, run.stdout[-3000:]
    third = parquet_files(archive)
    assert sorted(third) == ["season=S1", "season=S2", "season=S4"]
    assert third["season=S1"][0] != second["season=S1"][0]
    assert sorted(rows(project, "SELECT id, label, season FROM archive")) == [
        (1, "a", "S1"), (2, "b", "S1"), (3, "c2", "S2"), (5, "e", "S4")]

    # a full refresh rewrites every partition
    assert (run := dbt(project, "run", "--full-refresh")).returncode == 0, run.stdout[-3000:]
    fourth = parquet_files(archive)
    assert sorted(fourth) == sorted(third) and all(fourth[k][0] != third[k][0] for k in fourth)

    # the model gains a column (a dbt run from the shell, no full refresh): the files have other columns, every
    # partition is rewritten with it
    write(project, "archive.sql", CHANGED_PARTITIONS_MODEL.format(
        values="(1, 'a', 'S1', 7), (2, 'b', 'S1', 7), (3, 'c2', 'S2', 7), (5, 'e', 'S4', 7)",
        columns="id, label, season, extra"))
    assert (run := dbt(project, "run")).returncode == 0, run.stdout[-3000:]
    fifth = parquet_files(archive)
    assert sorted(fifth) == sorted(fourth) and all(fifth[k][0] != fourth[k][0] for k in fifth)
    assert sorted(rows(project, "SELECT id, extra FROM archive")) == [(1, 7), (2, 7), (3, 7), (5, 7)]


INCREMENTAL_MODEL = """
    {{{{ config(materialized='halo_incremental', incremental_strategy='delete+insert', unique_key='id',
              on_schema_change='append_new_columns') }}}}
    select * from (values {values}) as t({columns})
    {{% if halo_is_incremental() %}} where id >= 2 {{% endif %}}
    """

INCREMENTAL_YML = """
version: 2
models:
  - name: scores
    config:
      contract: {{enforced: true}}
    columns:
      - name: id
        data_type: integer
      - name: name
        data_type: varchar
{more}"""


def test_contracted_incremental_rewrites_by_key_and_appends_a_new_yml_column(project: Path) -> None:
    """halo_incremental with an enforced contract and on_schema_change='append_new_columns': an incremental run
    deletes and inserts the new rows by key and keeps the others; a column the yml and the query gain is added to
    the table (the rows already there get NULL)."""
    write(project, "scores.sql", INCREMENTAL_MODEL.format(values="(1, 'a'), (2, 'b')", columns="id, name"))
    write(project, "scores.yml", INCREMENTAL_YML.format(more=""))
    assert (run := dbt(project, "run")).returncode == 0, run.stdout[-3000:]
    assert sorted(rows(project, "SELECT id, name FROM scores")) == [(1, "a"), (2, "b")]

    # incremental: ids 2 and 3 come in (2 replaced, 3 new), id 1 is kept; the query's row for id 1 is not read
    write(project, "scores.sql", INCREMENTAL_MODEL.format(values="(1, 'z'), (2, 'b2'), (3, 'c')",
                                                          columns="id, name"))
    assert (run := dbt(project, "run")).returncode == 0, run.stdout[-3000:]
    assert sorted(rows(project, "SELECT id, name FROM scores")) == [(1, "a"), (2, "b2"), (3, "c")]

    # a new column in the yml and the query: appended to the table, NULL for the row the run did not rewrite
    write(project, "scores.sql", INCREMENTAL_MODEL.format(values="(1, 'z', 10), (2, 'b3', 20), (4, 'd', 40)",
                                                          columns="id, name, score"))
    write(project, "scores.yml", INCREMENTAL_YML.format(more="      - name: score\n        data_type: integer\n"))
    assert (run := dbt(project, "run")).returncode == 0, run.stdout[-3000:]
    assert columns(project, "scores") == [("id", "INTEGER"), ("name", "VARCHAR"), ("score", "INTEGER")]
    assert sorted(rows(project, "SELECT id, name, score FROM scores")) == [
        (1, "a", None), (2, "b3", 20), (3, "c", None), (4, "d", 40)]


def test_contract_with_a_column_constraint_creates_the_constraint(project: Path) -> None:
    """A contracted model with a constraint keeps dbt-duckdb's DDL (the metadata tables have some): the column is
    created NOT NULL, so a null is refused by DuckDB itself and the run fails."""
    write(project, "people.sql", "select 1::integer as id, 'Ann' as name")
    write(project, "people.yml", """
        version: 2
        models:
          - name: people
            config:
              contract: {enforced: true}
            columns:
              - name: id
                data_type: integer
                constraints: [{type: not_null}]
              - name: name
                data_type: varchar
        """)
    run = dbt(project, "run")
    assert run.returncode == 0, run.stdout[-3000:]
    assert rows(project, "SELECT column_name, is_nullable FROM information_schema.columns "
                         "WHERE table_name = 'people' ORDER BY ordinal_position") == [("id", "NO"), ("name", "YES")]
    write(project, "people.sql", "select null::integer as id, 'Ann' as name")
    run = dbt(project, "run")
    assert run.returncode == 1
    assert "NOT NULL constraint failed" in run.stdout, run.stdout[-3000:]


def test_hooks_run_around_the_table_and_the_view(project: Path) -> None:
    """Pre- and post-hooks of the lean table and view run, in order, and what they write is committed."""
    hooks = ("pre_hook=\"create table if not exists hook_log (step varchar); "
             "insert into hook_log values ('{m} pre')\", "
             "post_hook=\"insert into hook_log values ('{m} post')\"")
    write(project, "people.sql", "{{ config(" + hooks.format(m="table") + ") }} select 1 as id")
    write(project, "people_view.sql", "{{ config(materialized='halo_view', " + hooks.format(m="view") + ") }} "
                                      "select id from {{ ref('people') }}")
    run = dbt(project, "run")
    assert run.returncode == 0, run.stdout[-3000:]
    assert rows(project, "SELECT step FROM hook_log ORDER BY rowid") == [
        ("table pre",), ("table post",), ("view pre",), ("view post",)]
    assert rows(project, "SELECT id FROM people_view") == [(1,)]


def test_dbt_names_keep_dbt_duckdb_materializations(project: Path) -> None:
    """The lean materializations have names of their own: `table` is still dbt-duckdb's (which builds
    `<name>__dbt_tmp` and swaps it in), `halo_table` the project's (one create in the transaction)."""
    write(project, "plain.sql", "{{ config(materialized='table') }} select 1 as id")
    write(project, "lean.sql", "select 2 as id")
    run = dbt(project, "run", "--debug")
    assert run.returncode == 0, run.stdout[-3000:]
    assert rows(project, "SELECT id FROM plain UNION ALL SELECT id FROM lean ORDER BY 1") == [(1,), (2,)]
    log = (project / "logs" / "dbt.log").read_text()
    assert '"plain__dbt_tmp"' in log and "lean__dbt_tmp" not in log
