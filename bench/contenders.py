"""One load contender per process (so that peak memory and imports are its own):

    python -m bench.contenders halo|read_json|dlt <folder of match-stats files> <scratch dir>

Prints one JSON line: seconds (the load itself, imports and interpreter start excluded), matches, rows.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import OWNER_XUID, fresh  # noqa: E402


def halo(src: Path, scratch: Path) -> dict:
    """`halo load matches`: validation, raw bytes kept in raw.documents, every raw table written, one transaction."""
    from loader.ingest.load_matches import load_matches

    started = time.perf_counter()
    result = load_matches("Demo Chief", [src], xuid=OWNER_XUID, root=scratch)
    seconds = time.perf_counter() - started
    import duckdb

    with duckdb.connect(str(result.database), read_only=True) as con:
        matches = con.execute("SELECT count(*) FROM raw.matches").fetchall()[0][0]
        players = con.execute("SELECT count(*) FROM raw.match_players").fetchall()[0][0]
    return {"seconds": seconds, "matches": matches, "players": players, "rejected": result.counts.rejected}


# The floor: DuckDB's own reader in its best configuration we found (preserve_insertion_order = false; every file
# read once into a temporary table, then a match table and a flattened player table: one row per player with
# its PlayerTeamStats entries unnested and every struct expanded into columns). No validation, no raw bytes.
READ_JSON_SQL = """
SET preserve_insertion_order = false;
CREATE TEMP TABLE docs AS SELECT * FROM read_json('{glob}', format = 'auto');
CREATE TABLE matches AS SELECT MatchId, unnest(MatchInfo, recursive := true) FROM docs;
CREATE TABLE players AS
    SELECT MatchId, p.PlayerId, p.PlayerType, p.LastTeamId, p.Outcome, p.Rank,
           unnest(p.ParticipationInfo), unnest(s.Stats, recursive := true)
    FROM (SELECT MatchId, unnest(Players) AS p FROM docs)
    CROSS JOIN LATERAL (SELECT unnest(p.PlayerTeamStats) AS s);
"""


def read_json(src: Path, scratch: Path) -> dict:
    import duckdb

    db = scratch / "read_json.duckdb"
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    for statement in READ_JSON_SQL.format(glob=str(src / "*.json").replace("'", "''")).split(";"):
        if statement.strip():
            con.execute(statement)
    con.close()
    seconds = time.perf_counter() - started
    with duckdb.connect(str(db), read_only=True) as con:
        matches = con.execute("SELECT count(*) FROM matches").fetchall()[0][0]
        players = con.execute("SELECT count(*) FROM players").fetchall()[0][0]
        columns = len(con.execute("DESCRIBE players").fetchall())
    return {"seconds": seconds, "matches": matches, "players": players, "player_columns": columns}


def dlt_load(src: Path, scratch: Path) -> dict:
    """dlt into DuckDB with parquet loader files (its fastest format; the default insert_values is far slower)."""
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    os.environ["DLT_DATA_DIR"] = str(scratch / "dlt-data")
    os.environ["DLT_PROJECT_DIR"] = str(scratch)
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    import dlt
    import orjson

    files = sorted(src.glob("*.json"))

    @dlt.resource(name="match_stats", write_disposition="append")
    def match_stats():
        for path in files:
            yield orjson.loads(path.read_bytes())

    started = time.perf_counter()
    pipeline = dlt.pipeline(pipeline_name="bench_dlt", destination=dlt.destinations.duckdb(str(scratch / "dlt.duckdb")),
                            dataset_name="halo", pipelines_dir=str(scratch / "dlt-pipelines"))
    pipeline.run(match_stats(), loader_file_format="parquet")
    seconds = time.perf_counter() - started
    import duckdb

    with duckdb.connect(str(scratch / "dlt.duckdb"), read_only=True) as con:
        matches = con.execute("SELECT count(*) FROM halo.match_stats").fetchall()[0][0]
        players = con.execute("SELECT count(*) FROM halo.match_stats__players").fetchall()[0][0]
        tables = len(con.execute("SELECT table_name FROM information_schema.tables "
                                 "WHERE table_schema = 'halo'").fetchall())
    return {"seconds": seconds, "matches": matches, "players": players, "tables": tables}


CONTENDERS = {"halo": halo, "read_json": read_json, "dlt": dlt_load}

if __name__ == "__main__":
    name, src, scratch = sys.argv[1], Path(sys.argv[2]), fresh(Path(sys.argv[3]))
    print(json.dumps(CONTENDERS[name](src, scratch)))
