"""The `raw` schema of a player database: one place that names every column and its type.

Stat columns are derived from the pydantic models, so a field added to a model
becomes a column here and in the flattened frames at once. Durations are
stored in seconds (DOUBLE) with an `_s` suffix; timestamps are UTC.
"""

import datetime as dt
import types
import typing

import polars as pl
from pydantic import BaseModel

from loader.api.match_stats import MODE_BLOCKS, CoreStats, Stats
from loader.api.service_record import ServiceRecordCoreStats

# Award lists become their own tables; everything else in CoreStats is a column.
CORE_LIST_FIELDS = ("medals", "personal_scores")


def _base_type(annotation: typing.Any) -> typing.Any:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return next(arg for arg in typing.get_args(annotation) if arg is not type(None))
    return annotation


def stat_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, pl.DataType]]:
    """(model field, column name, polars dtype) for a stats block; durations become `<name>_s` seconds."""
    out = []
    for name, field in model.model_fields.items():
        if name in CORE_LIST_FIELDS:
            continue
        kind = _base_type(field.annotation)
        column = f"{prefix}{name}"
        if kind is dt.timedelta:
            out.append((name, column + "_s", pl.Float64()))
        elif kind is float:
            out.append((name, column, pl.Float64()))
        elif kind is int:
            out.append((name, column, pl.Int64()))
        else:
            raise TypeError(f"{model.__name__}.{name}: unsupported stat type {kind}")
    return out


CORE_COLUMNS = stat_fields(CoreStats)
MODE_COLUMNS: dict[str, list[tuple[str, str, pl.DataType]]] = {
    block: stat_fields(_base_type(Stats.model_fields[block].annotation), f"{prefix}_")
    for block, prefix in MODE_BLOCKS.items()
}
STAT_SCHEMA: dict[str, pl.DataType] = {
    column: dtype
    for columns in [CORE_COLUMNS, *MODE_COLUMNS.values()]
    for _, column, dtype in columns
}

SERVICE_RECORD_COLUMNS = stat_fields(ServiceRecordCoreStats)
CSR_COLUMNS = {f"{when}_{column}": dtype for when in ("current", "season_max", "all_time_max")
               for column, dtype in (("csr", pl.Int64()), ("tier", pl.Utf8()), ("sub_tier", pl.Int64()),
                                     ("tier_start", pl.Int64()), ("measurement_matches_remaining", pl.Int64()))}
TS = pl.Datetime("us")
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "matches": {
        "match_id": pl.Utf8(), "start_time": TS, "end_time": TS, "duration_s": pl.Float64(),
        "lifecycle_mode": pl.Int64(), "game_variant_category": pl.Int64(), "level_id": pl.Utf8(),
        "map_asset_id": pl.Utf8(), "map_version_id": pl.Utf8(),
        "game_variant_asset_id": pl.Utf8(), "game_variant_version_id": pl.Utf8(),
        "clearance_id": pl.Utf8(),
        "playlist_asset_id": pl.Utf8(), "playlist_version_id": pl.Utf8(), "playlist_experience": pl.Int64(),
        "map_mode_pair_asset_id": pl.Utf8(), "map_mode_pair_version_id": pl.Utf8(),
        "season_id": pl.Utf8(), "playable_duration_s": pl.Float64(),
        "teams_enabled": pl.Boolean(), "team_scoring_enabled": pl.Boolean(), "gameplay_interaction": pl.Int64(),
        "team_count": pl.Int64(), "player_count": pl.Int64(), "human_count": pl.Int64(),
        "loaded_at": TS,
    },
    "match_teams": {
        "match_id": pl.Utf8(), "team_id": pl.Int64(), "outcome": pl.Int64(), "rank": pl.Int64(),
        **STAT_SCHEMA,
    },
    "match_players": {
        "match_id": pl.Utf8(), "player_id": pl.Utf8(), "xuid": pl.Int64(), "is_bot": pl.Boolean(),
        "player_type": pl.Int64(), "bot_difficulty": pl.Int64(), "last_team_id": pl.Int64(),
        "outcome": pl.Int64(), "rank": pl.Int64(), "team_stats_entries": pl.Int64(),
        "first_joined_time": TS, "last_leave_time": TS, "present_at_beginning": pl.Boolean(),
        "joined_in_progress": pl.Boolean(), "left_in_progress": pl.Boolean(),
        "present_at_completion": pl.Boolean(), "time_played_s": pl.Float64(),
        "confirmed_participation": pl.Boolean(),
        **STAT_SCHEMA,
    },
    "match_player_medals": {
        "match_id": pl.Utf8(), "player_id": pl.Utf8(), "medal_id": pl.Int64(), "count": pl.Int64(),
        "total_personal_score_awarded": pl.Int64(),
    },
    "match_player_personal_scores": {
        "match_id": pl.Utf8(), "player_id": pl.Utf8(), "personal_score_id": pl.Int64(), "count": pl.Int64(),
        "total_personal_score_awarded": pl.Int64(),
    },
    "match_skill": {
        "match_id": pl.Utf8(), "player_id": pl.Utf8(), "xuid": pl.Int64(), "result_code": pl.Int64(),
        "team_id": pl.Int64(), "team_mmr": pl.Float64(),
        "pre_match_csr": pl.Int64(), "pre_match_csr_tier": pl.Utf8(), "pre_match_csr_sub_tier": pl.Int64(),
        "pre_match_csr_tier_start": pl.Int64(), "pre_match_measurement_matches_remaining": pl.Int64(),
        "post_match_csr": pl.Int64(), "post_match_csr_tier": pl.Utf8(), "post_match_csr_sub_tier": pl.Int64(),
        "post_match_csr_tier_start": pl.Int64(), "post_match_measurement_matches_remaining": pl.Int64(),
        "kills_count": pl.Int64(), "expected_kills": pl.Float64(), "kills_std_dev": pl.Float64(),
        "deaths_count": pl.Int64(), "expected_deaths": pl.Float64(), "deaths_std_dev": pl.Float64(),
    },
    "match_skill_team_mmrs": {
        "match_id": pl.Utf8(), "player_id": pl.Utf8(), "team_id": pl.Int64(), "mmr": pl.Float64(),
    },
    "highlight_events": {
        "event_id": pl.Utf8(), "match_id": pl.Utf8(), "event_index": pl.Int64(),
        "film_major_version": pl.Int64(), "xuid": pl.Int64(), "gamertag": pl.Utf8(),
        "event_type": pl.Utf8(), "type_hint": pl.Int64(), "time_ms": pl.Int64(), "is_medal": pl.Boolean(),
        "medal_value": pl.Int64(), "medal_name": pl.Utf8(),
    },
    "match_history": {
        "match_id": pl.Utf8(), "history_doc_id": pl.Utf8(), "start_time": TS, "end_time": TS,
        "game_variant_category": pl.Int64(), "playlist_asset_id": pl.Utf8(), "map_asset_id": pl.Utf8(),
        "game_variant_asset_id": pl.Utf8(), "season_id": pl.Utf8(),
        "last_team_id": pl.Int64(), "outcome": pl.Int64(), "rank": pl.Int64(),
        "present_at_end_of_match": pl.Boolean(),
    },
    "career_rank_snapshots": {
        "snapshot_id": pl.Utf8(), "spartan_id": pl.Utf8(), "observed_at": TS, "observed_at_source": pl.Utf8(),
        "rank": pl.Int64(), "partial_progress": pl.Int64(), "has_reached_max_rank": pl.Boolean(),
    },
    "service_record_snapshots": {
        "snapshot_id": pl.Utf8(), "observed_at": TS, "observed_at_source": pl.Utf8(),
        "time_played_s": pl.Float64(), "matches_completed": pl.Int64(), "wins": pl.Int64(), "losses": pl.Int64(),
        "ties": pl.Int64(), **{column: dtype for _, column, dtype in SERVICE_RECORD_COLUMNS},
    },
    "playlist_csr_snapshots": {
        "snapshot_id": pl.Utf8(), "playlist_asset_id": pl.Utf8(), "observed_at": TS, "observed_at_source": pl.Utf8(),
        "player_id": pl.Utf8(), "xuid": pl.Int64(), "result_code": pl.Int64(), **CSR_COLUMNS,
    },
    "profile_users": {
        "doc_id": pl.Utf8(), "xuid": pl.Int64(), "gamertag": pl.Utf8(), "observed_at": TS,
    },
    "documents": {
        "kind": pl.Utf8(), "doc_id": pl.Utf8(), "match_id": pl.Utf8(), "source_path": pl.Utf8(),
        "source_mtime": TS, "sha256": pl.Utf8(), "byte_size": pl.Int64(), "loaded_at": TS, "body": pl.Binary(),
    },
    "rejected": {
        "source_path": pl.Utf8(), "sha256": pl.Utf8(), "kind": pl.Utf8(), "match_id": pl.Utf8(),
        "reason": pl.Utf8(), "byte_size": pl.Int64(), "rejected_at": TS, "body": pl.Binary(),
    },
}

# Natural keys. Tables in INDEXED_TABLES also carry them as DuckDB PRIMARY KEYs; the row tables of a
# document (players, medals, personal scores, teams, skill, highlight events: ~95% of all rows) do not: their ART
# indexes were most of the write and commit time of a large load. Their keys stay unique because the writer
# replaces a document's rows as a whole, the reader rejects documents that list a player, team or skill entry
# twice, awards are summed per (player, NameId) and event ids number exact repeats; the dbt tests check them.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "matches": ("match_id",),
    "match_teams": ("match_id", "team_id"),
    "match_players": ("match_id", "player_id"),
    "match_player_medals": ("match_id", "player_id", "medal_id"),
    "match_player_personal_scores": ("match_id", "player_id", "personal_score_id"),
    "match_skill": ("match_id", "player_id"),
    "match_skill_team_mmrs": ("match_id", "player_id", "team_id"),
    "highlight_events": ("event_id",),
    "match_history": ("match_id",),
    "career_rank_snapshots": ("snapshot_id",),
    "service_record_snapshots": ("snapshot_id",),
    "playlist_csr_snapshots": ("snapshot_id", "player_id"),
    "profile_users": ("doc_id", "xuid"),
    "documents": ("kind", "doc_id"),
    "rejected": ("source_path", "sha256"),
}

INDEXED_TABLES: frozenset[str] = frozenset({"matches", "match_history", "career_rank_snapshots",
                                            "service_record_snapshots", "documents", "rejected"})

# Tables whose rows are not scoped to one document (history rows are keyed by match, and several history pages
# carry the same match): table -> (the kind of document that fills it, the column naming that document). A row
# follows the newest document holding its key (file modification time, then the larger document id), whatever the
# order or split of the loads. Every other table's rows belong to exactly one document, whose old rows are deleted
# when it is replaced, so they are plainly appended.
SHARED_TABLES: dict[str, tuple[str, str]] = {"match_history": ("match_history", "history_doc_id")}

# Which typed tables a document kind fills, and the column that ties their rows to the document.
KIND_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "match_stats": (("matches", "match_id"), ("match_teams", "match_id"), ("match_players", "match_id"),
                    ("match_player_medals", "match_id"), ("match_player_personal_scores", "match_id")),
    "match_skill": (("match_skill", "match_id"), ("match_skill_team_mmrs", "match_id")),
    "highlight_events": (("highlight_events", "match_id"),),
    "match_history": (("match_history", "match_id"),),
    "career_rank": (("career_rank_snapshots", "snapshot_id"),),
    "service_record": (("service_record_snapshots", "snapshot_id"),),
    "playlist_csr": (("playlist_csr_snapshots", "snapshot_id"),),
    "profile_users": (("profile_users", "doc_id"),),
}

_DUCKDB_TYPES = {
    pl.Utf8: "VARCHAR", pl.Int64: "BIGINT", pl.Float64: "DOUBLE", pl.Boolean: "BOOLEAN",
    pl.Binary: "BLOB", pl.Datetime: "TIMESTAMP",
}


def create_statements() -> list[str]:
    """DDL for the raw schema (idempotent)."""
    statements = [
        "CREATE SCHEMA IF NOT EXISTS raw",
        "CREATE TABLE IF NOT EXISTS raw.owner (xuid BIGINT NOT NULL, gamertag VARCHAR NOT NULL, "
        "player_dir VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)",
    ]
    for table, schema in SCHEMAS.items():
        columns = ", ".join(f'"{name}" {_DUCKDB_TYPES[type(dtype)]}' for name, dtype in schema.items())
        key = ", ".join(f'"{name}"' for name in PRIMARY_KEYS[table])
        constraint = f", PRIMARY KEY ({key})" if table in INDEXED_TABLES else ""
        statements.append(f"CREATE TABLE IF NOT EXISTS raw.{table} ({columns}{constraint})")
    return statements
