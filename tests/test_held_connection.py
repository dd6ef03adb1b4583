"""`halo build` opens a player's file once: the busy check's connection stays open while dbt builds, and dbt-duckdb's
connection shares its DuckDB database instance (loader/warehouse/build.py, busy_checked and DBT_DUCKDB_CONFIG).

DuckDB refuses, in one process, a second connection to an open file with another configuration, and a second
process's connection is refused by the file lock; so a dbt connection that opens while the busy check's is held
is the same database instance. halo's own reads of the file during the build (the batched data tests) go through
the held connection (data_tests.count_failures). Values here are written by hand.
"""

from pathlib import Path

import duckdb
import pytest
import yaml
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.environments import Environment

from loader.warehouse import data_tests
from loader.warehouse.build import busy_checked

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def player_file(tmp_path: Path) -> Path:
    """A DuckDB file with raw.owner (the upgrade check's schema) and one small table, and a metadata file."""
    db = tmp_path / "players" / "p" / "stats.duckdb"
    db.parent.mkdir(parents=True)
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.owner (xuid BIGINT, gamertag VARCHAR)")
        con.execute("CREATE TABLE main.scores AS SELECT * FROM (VALUES (1, 5), (2, 7), (3, 9)) AS t(id, points)")
    with duckdb.connect(str(tmp_path / "metadata.duckdb")) as con:
        con.execute("CREATE TABLE main.limits AS SELECT 6 AS top")
    return db


def player_credentials(db: Path) -> DuckDBCredentials:
    """The profile's player target as dbt-duckdb reads it (its settings and config options), for `db`."""
    player = yaml.safe_load((ROOT / "profiles.yml").read_text())["halo"]["outputs"]["player"]
    return DuckDBCredentials(path=str(db), settings=player.get("settings"),
                             config_options=player.get("config_options"))


def test_dbt_duckdb_opens_the_held_file_as_the_same_database(player_file: Path) -> None:
    with busy_checked("p", player_file, "player database", upgrade=True, hold=True) as (busy, con):
        assert busy is None and con is not None
        # dbt-duckdb's own connect, with the profile's options: it would raise "different configuration" if
        # DBT_DUCKDB_CONFIG were not dbt-duckdb's
        dbt_con = Environment.initialize_db(player_credentials(player_file))
        try:
            dbt_con.execute("CREATE TABLE main.built AS SELECT 42 AS answer")
            assert con.execute("SELECT answer FROM main.built").fetchall() == [(42,)]
        finally:
            dbt_con.close()
        # the held connection is still open after dbt's closed: a read of another configuration is refused
        with pytest.raises(duckdb.ConnectionException, match="different configuration"):
            duckdb.connect(str(player_file), read_only=True)
    # closed at the end of the block: any connection opens again, and what dbt wrote is in the file
    with duckdb.connect(str(player_file), read_only=True) as again:
        assert again.execute("SELECT answer FROM main.built").fetchall() == [(42,)]
        # the upgrade created the raw tables added since (service_record_snapshots among them)
        assert again.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' "
                             "AND table_name = 'service_record_snapshots'").fetchall() == [(1,)]


def test_without_hold_the_file_is_closed_before_the_block(player_file: Path) -> None:
    with busy_checked("p", player_file, "player database") as (busy, con):
        assert busy is None and con is None
        with duckdb.connect(str(player_file), read_only=True) as reader:
            assert reader.execute("SELECT count(*) FROM main.scores").fetchall() == [(3,)]


def test_batched_tests_count_rows_through_the_held_connection(player_file: Path) -> None:
    metadata = player_file.parents[2] / "metadata.duckdb"
    # rows above the metadata's limit (6): ids 2 and 3; none above 100
    tests = {"test.above_limit": "select id from main.scores where points > (select top from meta.main.limits)",
             "test.above_100": "select id from main.scores where points > 100"}
    with busy_checked("p", player_file, "player database", hold=True) as (_, con):
        assert data_tests.count_failures(player_file, metadata, tests, con) == {"test.above_limit": 2,
                                                                                "test.above_100": 0}
        # twice (the metadata is attached once per database instance, `if not exists`)
        assert data_tests.count_failures(player_file, metadata, tests, con)["test.above_limit"] == 2
        # without the connection, a read-only one of its own is refused while the build holds the file
        with pytest.raises(duckdb.ConnectionException, match="different configuration"):
            data_tests.count_failures(player_file, metadata, tests)
    # after the build, on its own read-only connection
    assert data_tests.count_failures(player_file, metadata, tests) == {"test.above_limit": 2, "test.above_100": 0}
