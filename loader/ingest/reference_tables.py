"""The `raw` schema of the metadata database and the flattening of reference documents into its rows.

One place names every column and its type (as `raw_tables` does for player
databases). Timestamps are UTC; asset ids are lower-case uuid strings. UGC
assets embedded in another asset (a map-mode pair's map and game variant, a
playlist's rotation of map-mode pairs) get rows too, flagged `is_embedded`, so
their names are known even when their own document was never downloaded.
"""

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

import polars as pl

from loader.api.reference import (
    CareerRewardTrack,
    CsrSeasonCalendar,
    MedalMetadata,
    MedalNames,
    PlaylistModesTranslations,
    SeasonCalendar,
)
from loader.api.ugc_assets import Asset, MapModePair, Playlist, UgcGameVariant
from loader.ingest import raw_tables
from loader.ingest.documents import Accepted
from loader.ingest.flatten import utc_naive

TS = pl.Datetime("us")
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "medals": {
        "doc_id": pl.Utf8(), "medal_id": pl.Int64(), "name": pl.Utf8(), "description": pl.Utf8(),
        "difficulty_index": pl.Int64(), "difficulty": pl.Utf8(), "type_index": pl.Int64(), "type": pl.Utf8(),
        "sorting_weight": pl.Int64(), "personal_score": pl.Int64(), "sprite_index": pl.Int64(),
    },
    "medal_translations": {
        "doc_id": pl.Utf8(), "medal_id": pl.Int64(), "locale": pl.Utf8(), "name": pl.Utf8(),
        "description": pl.Utf8(),
    },
    "medal_name_files": {
        "doc_id": pl.Utf8(), "language": pl.Utf8(), "medal_id": pl.Int64(), "name": pl.Utf8(),
    },
    "career_ranks": {
        "doc_id": pl.Utf8(), "track_id": pl.Utf8(), "rank": pl.Int64(), "xp_required": pl.Int64(),
        "title": pl.Utf8(), "subtitle": pl.Utf8(), "tier": pl.Utf8(), "tier_type": pl.Utf8(), "grade": pl.Int64(),
        "icon_path": pl.Utf8(), "large_icon_path": pl.Utf8(), "adornment_icon_path": pl.Utf8(),
        "free_reward_count": pl.Int64(), "paid_reward_count": pl.Int64(),
    },
    "calendar_seasons": {
        "doc_id": pl.Utf8(), "season_key": pl.Utf8(), "name": pl.Utf8(), "season_metadata_path": pl.Utf8(),
        "csr_season_key": pl.Utf8(), "operation_track_path": pl.Utf8(), "start_time": TS, "end_time": TS,
    },
    "csr_seasons": {
        "doc_id": pl.Utf8(), "season_key": pl.Utf8(), "name": pl.Utf8(), "csr_season_file_path": pl.Utf8(),
        "start_time": TS, "end_time": TS,
    },
    "ugc_assets": {
        "source_doc_id": pl.Utf8(), "source_kind": pl.Utf8(), "asset_kind": pl.Utf8(), "asset_id": pl.Utf8(),
        "version_id": pl.Utf8(), "public_name": pl.Utf8(), "description": pl.Utf8(), "tags": pl.List(pl.Utf8()),
        "is_embedded": pl.Boolean(), "is_ranked": pl.Boolean(),
        "map_asset_id": pl.Utf8(), "map_version_id": pl.Utf8(),
        "game_variant_asset_id": pl.Utf8(), "game_variant_version_id": pl.Utf8(),
        "rotation_weight": pl.Float64(), "source_mtime": TS, "loaded_at": TS,
    },
    "playlist_translations": {
        "doc_id": pl.Utf8(), "asset_id": pl.Utf8(), "name_en": pl.Utf8(), "name_fr": pl.Utf8(),
    },
    "mode_translations": {
        "doc_id": pl.Utf8(), "name_en": pl.Utf8(), "name_fr": pl.Utf8(), "category": pl.Utf8(),
    },
    "category_translations": {
        "doc_id": pl.Utf8(), "category": pl.Utf8(), "category_fr": pl.Utf8(),
    },
    "documents": raw_tables.SCHEMAS["documents"],
    "rejected": raw_tables.SCHEMAS["rejected"],
}

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "medals": ("medal_id",),
    "medal_translations": ("medal_id", "locale"),
    "medal_name_files": ("language", "medal_id"),
    "career_ranks": ("rank",),
    "calendar_seasons": ("season_key",),
    "csr_seasons": ("season_key",),
    "ugc_assets": ("source_doc_id", "asset_kind", "asset_id"),
    "playlist_translations": ("asset_id",),
    "mode_translations": ("name_en",),
    "category_translations": ("category",),
    "documents": ("kind", "doc_id"),
    "rejected": ("source_path", "sha256"),
}

UGC_KINDS = ("playlist", "map", "map_mode_pair", "game_variant")
SINGLETON_KINDS = ("medal_metadata", "career_reward_track", "season_calendar", "csr_season_calendar",
                   "playlist_mode_translations")

# Which typed tables a document kind fills, and the column that ties their rows to the document.
KIND_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "medal_metadata": (("medals", "doc_id"), ("medal_translations", "doc_id")),
    "medal_names": (("medal_name_files", "doc_id"),),
    "career_reward_track": (("career_ranks", "doc_id"),),
    "season_calendar": (("calendar_seasons", "doc_id"),),
    "csr_season_calendar": (("csr_seasons", "doc_id"),),
    "playlist_mode_translations": (("playlist_translations", "doc_id"), ("mode_translations", "doc_id"),
                                   ("category_translations", "doc_id")),
    **dict.fromkeys(UGC_KINDS, (("ugc_assets", "source_doc_id"),)),
}

_DUCKDB_TYPES = {
    pl.Utf8: "VARCHAR", pl.Int64: "BIGINT", pl.Float64: "DOUBLE", pl.Boolean: "BOOLEAN",
    pl.Binary: "BLOB", pl.Datetime: "TIMESTAMP",
}


def _duckdb_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.List):
        return _duckdb_type(dtype.inner) + "[]"
    return _DUCKDB_TYPES[type(dtype)]


def create_statements() -> list[str]:
    """DDL for the metadata database's raw schema (idempotent)."""
    statements = ["CREATE SCHEMA IF NOT EXISTS raw"]
    for table, schema in SCHEMAS.items():
        columns = ", ".join(f'"{name}" {_duckdb_type(dtype)}' for name, dtype in schema.items())
        key = ", ".join(f'"{name}"' for name in PRIMARY_KEYS[table])
        statements.append(f"CREATE TABLE IF NOT EXISTS raw.{table} ({columns}, PRIMARY KEY ({key}))")
    return statements


# --- flattening ----------------------------------------------------------------------------------------


def path_stem(path: str) -> str:
    """`Csr/Seasons/CsrSeason9-1.json` -> `CsrSeason9-1` (the key match stats use in `SeasonId`)."""
    return PurePosixPath(path.replace("\\", "/")).stem


def csr_season_name(key: str) -> str:
    """`CsrSeason9-1` -> `CSR Season 9-1`."""
    return re.sub(r"^CsrSeason-?", "CSR Season ", key)


def season_name(key: str) -> str:
    """`Season5-Op1` -> `Season 5 Op1`; `Season-Winter-Break-22` -> `Season Winter Break 22`."""
    return re.sub(r"^Season-?", "Season ", key).replace("-", " ").strip()


def _at(index: int, names: tuple[str, ...]) -> str | None:
    """The name at an index of the document's list; None for an index the list does not have yet."""
    return names[index] if 0 <= index < len(names) else None


def medal_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    meta: MedalMetadata = doc.model
    for medal in meta.medals:
        rows["medals"].append({
            "doc_id": doc.doc_id, "medal_id": medal.name_id, "name": medal.name.value,
            "description": medal.description.value,
            "difficulty_index": medal.difficulty_index, "difficulty": _at(medal.difficulty_index, meta.difficulties),
            "type_index": medal.type_index, "type": _at(medal.type_index, meta.types),
            "sorting_weight": medal.sorting_weight, "personal_score": medal.personal_score,
            "sprite_index": medal.sprite_index,
        })
        for locale in sorted(set(medal.name.translations) | set(medal.description.translations)):
            rows["medal_translations"].append({
                "doc_id": doc.doc_id, "medal_id": medal.name_id, "locale": locale,
                "name": medal.name.translations.get(locale), "description": medal.description.translations.get(locale),
            })


def medal_name_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    names: MedalNames = doc.model
    for medal_id, name in names.root.items():
        rows["medal_name_files"].append({"doc_id": doc.doc_id, "language": doc.doc_id, "medal_id": medal_id,
                                         "name": name})


def career_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    track: CareerRewardTrack = doc.model
    for rank in track.ranks:
        rows["career_ranks"].append({
            "doc_id": doc.doc_id, "track_id": track.track_id, "rank": rank.rank,
            "xp_required": rank.xp_required_for_rank, "title": rank.rank_title.value,
            "subtitle": rank.rank_sub_title.value, "tier": rank.rank_tier.value, "tier_type": rank.tier_type,
            "grade": rank.rank_grade, "icon_path": rank.rank_icon, "large_icon_path": rank.rank_large_icon,
            "adornment_icon_path": rank.rank_adornment_icon,
            "free_reward_count": len(rank.free_rewards.inventory_rewards) + len(rank.free_rewards.currency_rewards),
            "paid_reward_count": len(rank.paid_rewards.inventory_rewards) + len(rank.paid_rewards.currency_rewards),
        })


def season_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    calendar: SeasonCalendar = doc.model
    for season in calendar.seasons:
        key = path_stem(season.season_metadata)
        rows["calendar_seasons"].append({
            "doc_id": doc.doc_id, "season_key": key, "name": season_name(key),
            "season_metadata_path": season.season_metadata,
            "csr_season_key": path_stem(season.csr_season_file_path),
            "operation_track_path": season.operation_track_path,
            "start_time": utc_naive(season.start_date.value), "end_time": utc_naive(season.end_date.value),
        })


def csr_season_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    calendar: CsrSeasonCalendar = doc.model
    for season in calendar.seasons:
        key = path_stem(season.csr_season_file_path)
        rows["csr_seasons"].append({
            "doc_id": doc.doc_id, "season_key": key, "name": csr_season_name(key),
            "csr_season_file_path": season.csr_season_file_path,
            "start_time": utc_naive(season.start_date.value), "end_time": utc_naive(season.end_date.value),
        })


def translation_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    translations: PlaylistModesTranslations = doc.model
    for playlist in translations.playlists:
        rows["playlist_translations"].append({"doc_id": doc.doc_id, "asset_id": str(playlist.uuid),
                                              "name_en": playlist.en, "name_fr": playlist.fr})
    for mode in translations.modes:
        rows["mode_translations"].append({"doc_id": doc.doc_id, "name_en": mode.en, "name_fr": mode.fr,
                                          "category": mode.category})
    for category, category_fr in translations.categories.items():
        rows["category_translations"].append({"doc_id": doc.doc_id, "category": category,
                                              "category_fr": category_fr})


def _asset_row(doc: Accepted, kind: str, asset: Asset, embedded: bool, now: dt.datetime) -> dict[str, Any]:
    return {
        "source_doc_id": doc.doc_id, "source_kind": doc.kind, "asset_kind": kind,
        "asset_id": str(asset.asset_id), "version_id": str(asset.version_id),
        "public_name": asset.public_name, "description": asset.description,
        "tags": list(getattr(asset, "tags", ()) or ()), "is_embedded": embedded, "is_ranked": None,
        "map_asset_id": None, "map_version_id": None, "game_variant_asset_id": None,
        "game_variant_version_id": None, "rotation_weight": None,
        "source_mtime": utc_naive(doc.source.mtime), "loaded_at": now,
    }


def ugc_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]], now: dt.datetime) -> None:
    asset = doc.model
    row = _asset_row(doc, doc.kind, asset, False, now)
    out = rows["ugc_assets"]
    if isinstance(asset, Playlist):
        row["is_ranked"] = asset.is_ranked
        for entry in asset.rotation_entries:
            embedded = _asset_row(doc, "map_mode_pair", entry, True, now)
            embedded["rotation_weight"] = entry.metadata.weight
            out.append(embedded)
    elif isinstance(asset, MapModePair):
        if asset.map_link is not None:
            row["map_asset_id"], row["map_version_id"] = str(asset.map_link.asset_id), str(asset.map_link.version_id)
            out.append(_asset_row(doc, "map", asset.map_link, True, now))
        variant = asset.ugc_game_variant_link
        row["game_variant_asset_id"], row["game_variant_version_id"] = str(variant.asset_id), str(variant.version_id)
        out.append(_asset_row(doc, "game_variant", variant, True, now))
    elif isinstance(asset, UgcGameVariant):
        pass  # its engine variant is another kind of asset; it stays in the raw JSON
    out.append(row)


FLATTENERS = {
    "medal_metadata": medal_rows,
    "medal_names": medal_name_rows,
    "career_reward_track": career_rows,
    "season_calendar": season_rows,
    "csr_season_calendar": csr_season_rows,
    "playlist_mode_translations": translation_rows,
}


def frames_for(docs: Iterable[Accepted], now: dt.datetime) -> dict[str, pl.DataFrame]:
    """One Polars frame per typed raw table for a batch of accepted reference documents.

    Within a document, a key listed twice (a translation file naming a mode twice) keeps its last row.
    """
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in SCHEMAS if table not in ("documents", "rejected")}
    for doc in docs:
        if doc.kind in FLATTENERS:
            FLATTENERS[doc.kind](doc, rows)
        else:
            ugc_rows(doc, rows, now)
    return {
        table: pl.from_dicts(table_rows, schema=SCHEMAS[table]).unique(
            subset=list(PRIMARY_KEYS[table]), keep="last", maintain_order=True)
        for table, table_rows in rows.items()
    }
