"""The `spark` target: Apache Spark (dbt-spark, `method: session`, a real SparkSession in this process, local[2])
over the Parquet lake gives every tracked player the rows of their own file, in every mart and every column
(tests/mart_equality.py; floats to 1e-9 relative).

Three demo players who play some sessions together (the generator writes a shared match into each friend's folder)
are loaded with the real loader and built twice: each in their own DuckDB file (`halo build --all`), and all of them
on Spark, from the lake `halo lake` writes (loader/warehouse/spark.py creates the source views, then one in-process
`dbt run --target spark`). Expected values: each player's own file, whose marts tests/test_marts.py and
tests/test_demo_e2e.py check against the raw JSON; the demo JSON, read with plain json, for the counts.

One Spark build for the whole file, on little data (a SparkSession cannot be restarted in one process, and each
statement costs Spark a job or more). `dbt run`, not `dbt build`: the data tests check the rows these tests compare,
and on Spark each one is a job of several seconds on this machine (README, Spark). Columns left out
(mart_equality.IGNORED_COLUMNS): `loaded_at` and `is_owner`; `gamertag` may be filled where a player's file has
none (another owner's film names the player), as for the warehouse target. Skipped only without Java or pyspark.
"""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from mart_equality import MARTS, compare_marts, demo_documents, load_demo_friends, read_duckdb_marts

from loader.cli.main import main
from loader.core.paths import metadata_db_path, player_db_path
from loader.warehouse.lake import export_lake

if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
    pytest.skip("no Java runtime (java on PATH or JAVA_HOME): the spark target cannot start; "
                "python3 run.py setup installs openjdk-17-jre-headless as root", allow_module_level=True)
if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
    pytest.skip("pyspark / dbt-spark not installed: pip install -e '.[spark]' (python3 run.py setup does)",
                allow_module_level=True)

MATCHES_PER_PLAYER = 12
SEED = 5  # a schedule with sessions of the three friends together
FILLED = frozenset({"gamertag"})
NOT_IN_THE_DEMO = {"csr_snapshots", "service_record"}  # the demo writes no CSR or service-record documents
# every mart but DuckDB's Parquet archive (README, Spark); and the kill pairing's table, whose end has a Spark form of
# its own (macros/kill_pairing_choice.sql) and whose unpaired rows no mart shows
SPARK_MARTS = [m for m in MARTS if m != "match_stats_season_archive"] + ["int_kill_events_paired"]


def demo_matches(folder: Path) -> dict[str, dict]:
    """Match id -> match-stats document of a demo folder, read with plain json."""
    return demo_documents(folder)[0]


def spark_rows(session, sql: str) -> list[dict]:
    """Rows as dicts; through Arrow, so timestamps come back as UTC instants (not the JVM's local time)."""
    return session.sql(sql).toArrow().to_pylist()


def read_spark_marts(session, owner_xuid: int, marts: list[str]) -> dict[str, list[dict]]:
    """One owner's rows of each mart of schema `halo`, filtered as read_duckdb_marts filters a DuckDB file."""
    matches = [r["match_id"] for r in spark_rows(session, "SELECT match_id FROM halo.match_stats "
                                                           f"WHERE owner_xuid = {int(owner_xuid)}")]
    match_list = ", ".join(f"'{m}'" for m in matches) or "NULL"
    out = {}
    for mart in marts:
        columns = [f.name for f in session.table(f"halo.{mart}").schema.fields]
        if "owner_xuid" in columns:
            out[mart] = spark_rows(session, f"SELECT * FROM halo.{mart} WHERE owner_xuid = {int(owner_xuid)}")
        else:
            assert "match_id" in columns, f"{mart} has neither owner_xuid nor match_id"
            out[mart] = spark_rows(session, f"SELECT * FROM halo.{mart} WHERE match_id IN ({match_list})")
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root, owners = load_demo_friends(tmp_path_factory.mktemp("spark"), MATCHES_PER_PLAYER, SEED)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HALO_DATA_DIR", str(root))
        assert main(["build", "--all"]) == 0
        export_lake(root)
        from loader.warehouse.spark import build_spark

        outcome = build_spark(root, command="run")
    assert outcome.success, outcome.errors
    from pyspark.sql import SparkSession

    # the session build_spark started, which dbt used (getOrCreate returns the running one)
    return {"root": root, "owners": owners, "session": SparkSession.builder.getOrCreate(), "outcome": outcome}


def test_spark_tracks_every_owner_of_the_lake(built: dict) -> None:
    session = built["session"]
    tracked = spark_rows(session, "SELECT owner_xuid, gamertag FROM halo.tracked_players ORDER BY owner_xuid")
    assert [(r["owner_xuid"], r["gamertag"]) for r in tracked] == \
        sorted((xuid, gamertag) for xuid, (gamertag, _) in built["owners"].items())
    per_owner = {r["owner_xuid"]: r["n"] for r in spark_rows(
        session, "SELECT owner_xuid, count(*) AS n FROM halo.match_stats GROUP BY owner_xuid")}
    files = {xuid: demo_matches(folder) for xuid, (_, folder) in built["owners"].items()}
    assert per_owner == {xuid: len(m) for xuid, m in files.items()} == dict.fromkeys(files, MATCHES_PER_PLAYER)
    shared = sum(len(m) for m in files.values()) - len(set().union(*files.values()))
    assert shared > 0, "the demo has no shared match: choose another SEED"
    # each shared match's rows once per match (match-level marts), however many owners played it
    players = spark_rows(session, "SELECT count(*) AS n, count(DISTINCT match_id) AS m FROM halo.match_participants")
    all_matches = {k: v for m in files.values() for k, v in m.items()}
    assert players == [{"n": sum(len(d["Players"]) for d in all_matches.values()), "m": len(all_matches)}]


@pytest.mark.parametrize("owner_index", [0, 1, 2])
def test_every_mart_on_spark_filtered_by_owner_equals_the_owners_file(built: dict, owner_index: int) -> None:
    xuid = sorted(built["owners"])[owner_index]
    gamertag, folder = built["owners"][xuid]
    own = read_duckdb_marts(player_db_path(gamertag, built["root"]), xuid, SPARK_MARTS,
                            meta=metadata_db_path(built["root"]))
    spark = read_spark_marts(built["session"], xuid, SPARK_MARTS)
    # the comparison compares something: every mart the demo's documents fill has rows
    assert {mart for mart, rows in own.items() if not rows} == NOT_IN_THE_DEMO
    assert len(own["match_stats"]) == len(demo_matches(folder))
    assert {r["pairing_status"] for r in own["int_kill_events_paired"]} >= {"paired", "unpaired_death"}
    compare_marts(own, spark, filled=FILLED)


def test_the_marts_are_parquet_tables_in_the_spark_warehouse_folder(built: dict) -> None:
    session = built["session"]
    detail = {r["col_name"]: r["data_type"] for r in spark_rows(session, "DESCRIBE TABLE EXTENDED halo.match_stats")}
    assert detail["Provider"] == "parquet"
    location = Path(detail["Location"].removeprefix("file:"))
    assert location == built["root"] / "warehouse" / "spark" / "warehouse" / "halo.db" / "match_stats"
    assert any(location.glob("*.parquet"))
