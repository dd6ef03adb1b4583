"""`halo lake`: every tracked player's raw layer as one Parquet lake, `HALO_DATA_DIR/warehouse/lake/`.

Layout (one folder per raw table, named as the table; LAKE_CONTRACT in the README's "The lake"):

- per-owner tables (`PER_OWNER`): an extra first column `owner_xuid`, files under
  `<table>/player=<xuid>/year=YYYY/month=MM/data_0.parquet` (year/month of the row's own time);
- match-level tables (`MATCH_LEVEL`): each match once however many owners loaded it, under
  `<table>/year=YYYY/month=MM/data_0.parquet` (the match's start time; `profile_users` its `observed_at`);
- `meta/<table>/data_0.parquet`: every table and view of metadata.duckdb's main schema.

Which owner's copy of a shared match: the loader's own rule for two copies of a document, per document kind (match
stats, film) — the newer file (source_mtime), then the larger SHA-256, then the smaller owner XUID; a skill
document holds entries of several players, so skill rows follow that rule per (match, player). `matches.loaded_at`
is the earliest load of the match by any owner (each owner's load times stay in `documents`).

Incremental: a manifest (`_manifest.json`) keeps a fingerprint of each player's documents and of each partition's
rows (count and sum of row hashes). With no player and no reference data changed, nothing is read or written;
otherwise the new lake is computed in a staging database and only the partitions whose fingerprint changed are
written: into a staging folder inside the lake, then each file renamed over the old one (atomic on one file
system). Removed partitions are deleted; the manifest is replaced last. A killed export leaves every file whole
(old or new) and the old manifest, so the next export rewrites what differs and ends with the lake a clean export
gives. Player databases are attached read-only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from loader.core.duckdb_files import building
from loader.core.errors import DatabaseBusyError, ExportFailedError
from loader.core.paths import data_dir, metadata_db_path, remove_stale_result_dirs
from loader.core.resources import write_text_replacing
from loader.warehouse.players import tracked_players

LAKE_DIR_NAME = "lake"
MANIFEST_NAME = "_manifest.json"
IN_PROGRESS_NAME = "_export_in_progress"  # present from the first rename to the new manifest: a mixed lake
STAGING_PREFIX = ".staging-"
FILE_NAME = "data_0.parquet"
MANIFEST_VERSION = 1

# per-owner table -> the time column that partitions it
PER_OWNER: dict[str, str] = {
    "owner": "created_at", "documents": "loaded_at", "match_history": "start_time",
    "career_rank_snapshots": "observed_at", "service_record_snapshots": "observed_at",
    "playlist_csr_snapshots": "observed_at",
}
# match-level table -> the document kind whose copy it follows (None: profile lookups, deduplicated by key)
MATCH_LEVEL: dict[str, str | None] = {
    "matches": "match_stats", "match_teams": "match_stats", "match_players": "match_stats",
    "match_player_medals": "match_stats", "match_player_personal_scores": "match_stats",
    "match_skill": "match_skill", "match_skill_team_mmrs": "match_skill",
    "highlight_events": "highlight_events", "profile_users": None,
}
# columns left out of the lake: the documents' original bytes (most of a player file's size; no model reads them;
# they stay in the player's file and in `halo export`)
LEFT_OUT = {"documents": ("body",)}
OWNER_COLUMNS = {"xuid": "BIGINT", "gamertag": "VARCHAR", "player_dir": "VARCHAR", "created_at": "TIMESTAMP"}
_TYPES = {"String": "VARCHAR", "Int64": "BIGINT", "Float64": "DOUBLE", "Boolean": "BOOLEAN",
          "Binary": "BLOB", "Datetime": "TIMESTAMP"}


def lake_dir(root: Path | None = None) -> Path:
    return (root or data_dir()) / "warehouse" / LAKE_DIR_NAME


def raw_columns(table: str) -> dict[str, str]:
    """The raw table's columns and DuckDB types, as in a player's file, without those the lake leaves out."""
    # imported here, not at the top: the raw schema is the ingest stage's (pydantic models, Polars types), and every
    # `halo build` imports this module (a player's build too: ~0.5 s of imports that only the lake needs)
    from loader.ingest import raw_tables

    if table == "owner":
        columns = dict(OWNER_COLUMNS)
    else:
        columns = {name: _TYPES[type(dtype).__name__] for name, dtype in raw_tables.SCHEMAS[table].items()}
    for name in LEFT_OUT.get(table, ()):
        columns.pop(name)
    return columns


def lake_columns(table: str) -> dict[str, str]:
    """The columns of a lake table (the contract): per-owner tables start with owner_xuid."""
    columns = raw_columns(table)
    return {"owner_xuid": "BIGINT", **columns} if table in PER_OWNER else columns


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class LakeResult:
    """What one export did. `written`/`removed`: partition folders relative to the lake."""

    players: int = 0
    owners: list[int] = field(default_factory=list)  # the tracked players' XUIDs, sorted
    changed: bool = False
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    seconds: float = 0.0


def player_fingerprint(con: duckdb.DuckDBPyConnection, alias: str) -> tuple[int, str]:
    """(owner XUID, digest of the owner row and every stored document): changes exactly when a load changed it."""
    owner = con.execute(f"SELECT xuid, gamertag FROM {alias}.raw.owner").fetchall()
    if len(owner) != 1:
        raise ValueError(f"raw.owner holds {len(owner)} rows")
    digest = con.execute(
        f"SELECT md5(coalesce(string_agg(kind || ':' || doc_id || ':' || sha256 || ':' || loaded_at, ',' "
        f"ORDER BY kind, doc_id), '')) FROM {alias}.raw.documents").fetchall()[0][0]
    return owner[0][0], f"{owner[0][1]}:{digest}"


def _tables_of(con: duckdb.DuckDBPyConnection, alias: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND "
                                      "schema_name = 'raw'", [alias]).fetchall()}


def _month_columns(time_sql: str) -> str:
    return (f"lpad(CAST(year({time_sql}) AS VARCHAR), 4, '0') AS year, "
            f"lpad(CAST(month({time_sql}) AS VARCHAR), 2, '0') AS month")


def _stage(con: duckdb.DuckDBPyConnection, owners: list[tuple[str, int, set[str]]]) -> None:
    """Create `lake_<table>` in the staging database for every lake table, with its partition columns."""

    def union(table: str, select: str) -> str:
        parts = [select.format(alias=alias, owner=xuid) for alias, xuid, tables in owners if table in tables]
        if not parts:  # no owner's file has the table yet: an empty, typed relation
            columns = ", ".join(f"CAST(NULL AS {t}) AS {_q(c)}" for c, t in raw_columns(table).items())
            return f"SELECT CAST(NULL AS BIGINT) AS owner_xuid, {columns} LIMIT 0"
        return " UNION ALL ".join(parts)

    raw_select = {t: ", ".join(_q(c) for c in raw_columns(t)) for t in [*PER_OWNER, *MATCH_LEVEL]}
    for table, time_column in PER_OWNER.items():
        body = union(table, f"SELECT {{owner}} AS owner_xuid, {raw_select[table]} FROM {{alias}}.raw.{table}")
        con.execute(f"CREATE TABLE lake_{table} AS SELECT *, CAST(owner_xuid AS VARCHAR) AS player, "
                    f"{_month_columns(_q(time_column))} FROM ({body})")
    # which owner's copy of each document: newest file, then the larger SHA-256, then the smaller XUID
    con.execute("""
        CREATE TABLE copies AS
        SELECT kind, match_id, owner_xuid,
               row_number() OVER (PARTITION BY kind, match_id
                                  ORDER BY source_mtime DESC NULLS LAST, sha256 DESC, owner_xuid) AS choice
        FROM lake_documents
        WHERE match_id IS NOT NULL AND kind IN ('match_stats', 'match_skill', 'highlight_events')""")
    for table in MATCH_LEVEL:
        con.execute(f"CREATE TEMP VIEW all_{table} AS "
                    + union(table, f"SELECT {{owner}} AS owner_xuid, {raw_select[table]} FROM {{alias}}.raw.{table}"))
    con.execute(f"""
        CREATE TABLE lake_matches AS
        SELECT m.* REPLACE (first_load.loaded_at AS loaded_at), {_month_columns('m.start_time')}
        FROM all_matches AS m
        JOIN copies AS c ON c.kind = 'match_stats' AND c.match_id = m.match_id AND c.owner_xuid = m.owner_xuid
                            AND c.choice = 1
        JOIN (SELECT match_id, min(loaded_at) AS loaded_at FROM all_matches GROUP BY match_id) AS first_load
          ON first_load.match_id = m.match_id""")
    # a film or skill result of a match whose stats are not loaded (yet): the month of its first load
    con.execute(f"""
        CREATE TABLE starts AS
        SELECT match_id, year, month FROM lake_matches
        UNION ALL
        SELECT match_id, {_month_columns('min(loaded_at)')} FROM lake_documents
        WHERE match_id IS NOT NULL AND match_id NOT IN (SELECT match_id FROM lake_matches)
        GROUP BY match_id""")
    starts = "starts"
    for table, kind in MATCH_LEVEL.items():
        if table == "matches":
            continue
        if kind is None:  # profile lookups: one row per key, the newest lookup (then the smallest owner XUID)
            from loader.ingest import raw_tables  # see raw_columns

            key = ", ".join(_q(c) for c in raw_tables.PRIMARY_KEYS[table])
            con.execute(f"CREATE TABLE lake_{table} AS SELECT * EXCLUDE (choice), {_month_columns('observed_at')} "
                        f"FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY observed_at DESC NULLS LAST, "
                        f"owner_xuid) AS choice "
                        f"FROM all_{table}) WHERE choice = 1")
            continue
        if kind == "match_skill":  # per (match, player): the owner of the chosen copy among those holding the player
            pick = ("QUALIFY row_number() OVER (PARTITION BY t.match_id, t.player_id "
                    "ORDER BY c.choice) = 1")
            join = "JOIN copies AS c ON c.kind = 'match_skill' AND c.match_id = t.match_id " \
                   "AND c.owner_xuid = t.owner_xuid"
            if table == "match_skill_team_mmrs":  # the same owner as the player's match_skill row
                join = ("JOIN lake_match_skill AS c ON c.match_id = t.match_id AND c.player_id = t.player_id "
                        "AND c.owner_xuid = t.owner_xuid")
                pick = ""
        else:
            join = f"JOIN copies AS c ON c.kind = {_lit(kind)} AND c.match_id = t.match_id " \
                   "AND c.owner_xuid = t.owner_xuid AND c.choice = 1"
            pick = ""
        con.execute(f"CREATE TABLE lake_{table} AS SELECT t.*, s.year, s.month FROM all_{table} AS t {join} "
                    f"JOIN {starts} AS s ON s.match_id = t.match_id {pick}")


def _partition_dir(table: str, player: str | None, year: str, month: str) -> str:
    parts = [table] + ([f"player={player}"] if player is not None else []) + [f"year={year}", f"month={month}"]
    return "/".join(parts)


def _fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Partition folder -> fingerprint of its rows (count, sum of row hashes, the columns)."""
    out = {}
    for table in [*PER_OWNER, *MATCH_LEVEL]:
        columns = list(lake_columns(table))
        select = ", ".join(_q(c) for c in columns)
        player = "player" if table in PER_OWNER else "NULL"
        schema = ",".join(f"{c}:{t}" for c, t in lake_columns(table).items())
        rows = con.execute(f"SELECT {player}, year, month, count(*), CAST(sum(hash({select})) AS VARCHAR) "
                           f"FROM lake_{table} GROUP BY ALL").fetchall()
        for player_value, year, month, count, digest in rows:
            if year is None:  # the loader always sets these times: a file written by something else
                what = PER_OWNER.get(table, "match start time")
                raise ExportFailedError(f"lake export: {count} row(s) of raw.{table} have no {what} (player "
                                        f"{player_value}), so they have no partition; nothing was changed. Reload "
                                        "the player's documents with halo load.")
            out[_partition_dir(table, player_value, year, month)] = f"{count}:{digest}:{schema}"
    return out


def _write_partitions(con: duckdb.DuckDBPyConnection, lake: Path, staging: Path, changed: set[str]) -> None:
    """Write the changed partitions into `staging` (one COPY per table), then rename each file into place."""
    for table in [*PER_OWNER, *MATCH_LEVEL]:
        wanted = sorted(p for p in changed if p.split("/", 1)[0] == table)
        if not wanted:
            continue
        per_owner = table in PER_OWNER
        keys = []
        for path in wanted:
            values = dict(part.split("=", 1) for part in path.split("/")[1:])
            keys.append((values.get("player"), values["year"], values["month"]))
        con.execute("CREATE OR REPLACE TEMP TABLE wanted (player VARCHAR, year VARCHAR, month VARCHAR)")
        con.executemany("INSERT INTO wanted VALUES (?, ?, ?)", keys)
        select = ", ".join(_q(c) for c in lake_columns(table))
        partition = "player, year, month" if per_owner else "year, month"
        match_player = "w.player = t.player AND " if per_owner else ""
        out = staging / table
        con.execute(f"COPY (SELECT {select}, {partition} FROM lake_{table} AS t "
                    f"SEMI JOIN wanted AS w ON {match_player}w.year = t.year AND w.month = t.month) "
                    f"TO {_lit(str(out))} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({partition}), "
                    f"ROW_GROUP_SIZE 100000)")
        for path in wanted:
            source_dir = staging / path
            files = sorted(source_dir.glob("*.parquet"))
            target_dir = lake / path
            target_dir.mkdir(parents=True, exist_ok=True)
            names = set()
            for index, source in enumerate(files):
                name = FILE_NAME if index == 0 else f"data_{index}.parquet"
                os.replace(source, target_dir / name)  # atomic: a reader sees the old file or the new one
                names.add(name)
            for old in target_dir.glob("*.parquet"):
                if old.name not in names:
                    old.unlink()


def _remove_partitions(lake: Path, removed: set[str]) -> None:
    for path in removed:
        folder = lake / path
        for old in folder.glob("*.parquet"):
            old.unlink()
        # empty parent folders go too (never the table folder itself)
        while folder != lake and folder.parent != lake and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _on_disk(lake: Path) -> set[str]:
    """Partition folders holding files (tables and meta)."""
    found = set()
    for file in lake.glob("*/**/*.parquet"):
        relative = file.parent.relative_to(lake).as_posix()
        if not relative.startswith(STAGING_PREFIX):
            found.add(relative)
    return found


def _meta_stage(con: duckdb.DuckDBPyConnection, metadata: Path) -> dict[str, str]:
    """Attach metadata.duckdb read-only; meta/<table> -> fingerprint of its rows."""
    if not metadata.is_file():
        return {}
    try:
        con.execute(f"ATTACH {_lit(str(metadata))} AS metadata_db (READ_ONLY)")
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseBusyError(f"metadata database {metadata} is busy: a halo load reference or build holds it "
                                    "for writing. Run this again when it has finished.") from exc
        raise ExportFailedError(f"lake export: metadata database {metadata} cannot be opened ({exc}); nothing was "
                                "changed.") from exc
    names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = "
                                       "'metadata_db' AND table_schema = 'main' ORDER BY 1").fetchall()]
    out = {}
    for name in names:
        columns = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = "
                              "'metadata_db' AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                              [name]).fetchall()
        select = ", ".join(_q(c) for c, _ in columns)
        count, digest = con.execute(f"SELECT count(*), CAST(sum(hash({select})) AS VARCHAR) "
                                    f"FROM metadata_db.main.{_q(name)}").fetchall()[0]
        out[f"meta/{name}"] = f"{count}:{digest}:{columns}"
    return out


def _write_meta(con: duckdb.DuckDBPyConnection, lake: Path, staging: Path, changed: set[str]) -> None:
    for path in sorted(changed):
        name = path.split("/", 1)[1]
        staged = staging / f"meta-{name}.parquet"
        con.execute(f"COPY (SELECT * FROM metadata_db.main.{_q(name)}) TO {_lit(str(staged))} "
                    "(FORMAT parquet, COMPRESSION zstd)")
        (lake / path).mkdir(parents=True, exist_ok=True)
        os.replace(staged, lake / path / FILE_NAME)


def read_manifest(lake: Path) -> dict:
    try:
        manifest = json.loads((lake / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if manifest.get("version") == MANIFEST_VERSION else {}


def lake_lock(root: Path | None = None) -> contextlib.AbstractContextManager:
    """One export (or warehouse build) of the lake at a time: a lock on the lake folder (`building`)."""
    lake = lake_dir(root)
    lake.mkdir(parents=True, exist_ok=True)
    return building(lake / MANIFEST_NAME, "lake", command="halo lake (or halo build --warehouse)")


def export_lake(root: Path | None = None) -> LakeResult:
    """Bring the lake up to date with every tracked player's file (and the metadata); see the module doc."""
    with lake_lock(root):
        return export_lake_locked(root)


def export_lake_locked(root: Path | None = None) -> LakeResult:
    """`export_lake` for a caller holding `lake_lock`."""
    started = time.perf_counter()
    root = root or data_dir()
    lake = lake_dir(root)
    lake.mkdir(parents=True, exist_ok=True)
    remove_stale_result_dirs(str(lake), STAGING_PREFIX)
    players = tracked_players(root)
    result = LakeResult(players=len(players))
    manifest = read_manifest(lake)
    staging = Path(lake / f"{STAGING_PREFIX}{os.getpid()}-{time.time_ns()}")
    staging.mkdir()
    try:
        con = duckdb.connect(str(staging / "stage.duckdb"), config={"preserve_insertion_order": False})
        try:
            owners, fingerprints = _attach_players(con, players)
            result.owners = sorted(xuid for _, xuid, _ in owners)
            metadata = metadata_db_path(root)
            meta_parts = _meta_stage(con, metadata)
            state = {"players": fingerprints, "meta": meta_parts}
            listed = set(manifest.get("partitions", {}))
            if manifest.get("state") == state and listed == _on_disk(lake) and not (lake / IN_PROGRESS_NAME).exists():
                result.unchanged = len(listed)
                return result
            _stage(con, owners)
            partitions = {**_fingerprints(con), **meta_parts}
            old = manifest.get("partitions", {})
            on_disk = _on_disk(lake)
            changed = {p for p, digest in partitions.items() if old.get(p) != digest or p not in on_disk}
            removed = (on_disk | set(old)) - set(partitions)
            if changed or removed:
                write_text_replacing(lake / IN_PROGRESS_NAME, f"{os.getpid()}\n")
            _write_partitions(con, lake, staging, {p for p in changed if not p.startswith("meta/")})
            _write_meta(con, lake, staging, {p for p in changed if p.startswith("meta/")})
        finally:
            con.close()
        _remove_partitions(lake, removed)
        write_text_replacing(lake / MANIFEST_NAME, json.dumps(
            {"version": MANIFEST_VERSION, "state": state, "partitions": partitions}, sort_keys=True, indent=0))
        (lake / IN_PROGRESS_NAME).unlink(missing_ok=True)
        result.changed = bool(changed or removed)
        result.written = sorted(changed)
        result.removed = sorted(removed)
        result.unchanged = len(partitions) - len(changed)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        result.seconds = time.perf_counter() - started


def _attach_players(con: duckdb.DuckDBPyConnection, players: list) -> tuple[list, dict[str, str]]:
    owners = []
    fingerprints = {}
    folders: dict[int, Path] = {}  # xuid -> the player folder holding it
    for index, player in enumerate(players):
        alias = f"player_{index}"
        try:
            con.execute(f"ATTACH {_lit(str(player.database))} AS {alias} (READ_ONLY)")
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise DatabaseBusyError(
                    f"player database of {player.gamertag!r} {player.database} is busy: a halo load or build holds "
                    "it for writing. Run halo lake again when it has finished.") from exc
            raise ExportFailedError(f"lake export: player database {player.database} cannot be opened ({exc}); "
                                    "nothing was changed.") from exc
        try:
            xuid, digest = player_fingerprint(con, alias)
        except (duckdb.Error, ValueError) as exc:
            raise ExportFailedError(f"lake export: player database {player.database} cannot be read as a player's "
                                    f"file ({exc}); nothing was changed. Check the file (halo build --player "
                                    f"{player.gamertag!r} says more) or move it out of players/.") from exc
        if xuid in folders:
            raise ExportFailedError(
                f"lake export: two player folders hold XUID {xuid}: {folders[xuid]} and {player.database.parent} (a "
                "gamertag change loaded under the new name?); nothing was changed. Keep one of them in players/ "
                "(load the other's documents into it with halo export + halo load), then run this again.")
        fingerprints[str(xuid)] = digest
        folders[xuid] = player.database.parent
        owners.append((alias, xuid, _tables_of(con, alias)))
    return owners, fingerprints


def table_glob(lake: Path, table: str) -> str:
    """The files of one lake table (the partition folders' depth: player/year/month or year/month)."""
    depth = 3 if table in PER_OWNER else 2
    return str(lake / table / "/".join(["*"] * depth) / "*.parquet")


def create_lake_views(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Schema `raw` of the warehouse: one view per lake table over its Parquet files, each column cast back to the
    raw table's type (the one place that does; the lake may store narrower types). A table with no file yet is an
    empty view of the same columns. Recreated before every warehouse build: the views name the lake's absolute
    path, and a table's first file may have appeared since."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table in [*PER_OWNER, *MATCH_LEVEL]:
        columns = lake_columns(table)
        pattern = table_glob(lake, table)
        files = sorted(lake.glob(str(Path(pattern).relative_to(lake))))
        if files:
            select = ", ".join(f"CAST({_q(c)} AS {t}) AS {_q(c)}" for c, t in columns.items())
            # a data folder whose path has glob characters: the files by name (a new partition then needs the
            # views recreated, as every halo build --warehouse does)
            source = (_lit(pattern) if not any(ch in str(lake) for ch in "[]?*{}")
                      else "[" + ", ".join(_lit(str(f)) for f in files) + "]")
            body = f"SELECT {select} FROM read_parquet({source}, hive_partitioning = false)"
        else:
            body = "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {_q(c)}" for c, t in columns.items()) + " LIMIT 0"
        con.execute(f"CREATE OR REPLACE VIEW raw.{table} AS {body}")
