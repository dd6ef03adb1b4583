"""`halo load reference`: read, validate and write reference documents into the shared metadata database.

Recognised documents (by shape; validation confirms): medal metadata, career
reward track, season calendar, CSR season calendar, UGC discovery assets (map,
playlist, map-mode pair, game variant), `Playlist_modes_translations.json` and
`medals_<language>.json`. UGC assets are keyed by their AssetId (a newer file
of the same asset replaces the stored version); the other documents are
singletons keyed by their kind (medal name files by their language).
"""

import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import duckdb
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from loader.api.reference import REFERENCE_MODELS
from loader.api.ugc_assets import UGC_MODELS
from loader.core.duckdb_files import connect_for_writing
from loader.core.paths import metadata_db_path
from loader.core.resources import refusals
from loader.ingest import reference_tables
from loader.ingest.documents import (
    Accepted,
    Rejected,
    Skipped,
    Source,
    format_validation_error,
    iter_sources,
    read_source,
    reject_if_not_text,
)
from loader.ingest.shapes import detect_kind, detect_reference_kind
from loader.ingest.writer import LoadResult, write_batch

KIND_MODELS: dict[str, type[BaseModel]] = {**REFERENCE_MODELS, **UGC_MODELS}
KIND_LABELS = {
    "medal_metadata": "medal metadata", "career_reward_track": "career reward track",
    "season_calendar": "season calendar", "csr_season_calendar": "CSR season calendar",
    "playlist_mode_translations": "playlist/mode translations", "medal_names": "medal names file",
    "playlist": "playlist asset", "map": "map asset", "map_mode_pair": "map-mode pair asset",
    "game_variant": "game variant asset",
}
ACCEPTED_SHAPES = (
    "medal metadata (difficulties, types, sprites, medals), career reward track (TrackId, Ranks), "
    "season calendar (Seasons with OperationTrackPath, Events, CareerRank), CSR season calendar "
    "(Seasons with CsrSeasonFilePath), UGC assets with AssetId/VersionId/PublicName (map: PrefabLinks; "
    "playlist: RotationEntries; map-mode pair: UgcGameVariantLink; game variant: EngineGameVariantLink), "
    "Playlist_modes_translations.json (playlists, modes, categories), medals_<language>.json (NameId -> name)"
)
MEDAL_NAMES_FILE = re.compile(r"^medals_([A-Za-z]{2,3}(?:[-_][A-Za-z]{2,4})?)\.json$", re.IGNORECASE)


def read_reference(source: Source) -> Accepted | Rejected:
    """Validate one file's bytes as whichever reference document it is."""
    not_text = reject_if_not_text(source, "a JSON reference document")
    if not_text is not None:
        return not_text
    kind = detect_reference_kind(source.json_bytes)
    if kind is None:
        return _reject_unrecognised(source)
    label = KIND_LABELS[kind]
    language = None
    if kind == "medal_names":
        name = MEDAL_NAMES_FILE.match(source.path.name)
        if name is None:
            return Rejected(source, f"{label}: cannot tell its language from the file name {source.path.name!r}; "
                                    "name it medals_<language>.json (e.g. medals_fr.json)", kind)
        language = name.group(1).lower().replace("_", "-")
    try:
        model = KIND_MODELS[kind].model_validate_json(source.json_bytes)
    except ValidationError as err:
        return Rejected(source, f"invalid {label}: {format_validation_error(err)}", kind)
    # natural id: the asset id for UGC assets, the language for medal name files, else the kind (a singleton)
    doc_id = str(model.asset_id) if kind in UGC_MODELS else language or kind
    return Accepted(kind, doc_id, None, source, model)


def _reject_unrecognised(source: Source) -> Rejected:
    try:
        from_json(source.json_bytes)
    except ValueError as exc:
        return Rejected(source, f"not valid JSON: {exc}; re-download the file")
    if detect_kind(source.json_bytes) is not None:
        return Rejected(source, "looks like match data (stats, history, skill, film, career rank): load it with "
                                "`halo load matches --player <gamertag>`")
    return Rejected(source, f"not a recognised reference document; accepted shapes are: {ACCEPTED_SHAPES}")


def open_metadata_db(root: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the shared metadata DB for writing and create its raw schema."""
    path = metadata_db_path(root)
    con = connect_for_writing(path, "metadata database")
    try:
        for statement in reference_tables.create_statements():
            con.execute(statement)
    except BaseException:
        con.close()
        raise
    return con


@refusals("halo load reference")
def load_reference(
    paths: Sequence[Path],
    root: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """Load files/directories of reference documents into HALO_DATA_DIR/warehouse/metadata.duckdb.

    Everything is written in one transaction; bad documents are recorded in raw.rejected and never
    stop the others.
    """
    started = time.perf_counter()
    skipped: list[Skipped] = []
    files = list(iter_sources(paths, skipped))  # raises UsageError before anything is opened
    result = LoadResult(database=metadata_db_path(root), skipped=skipped)
    accepted, rejected = read_batch(files, progress)
    con = open_metadata_db(root)
    try:
        counts = write_batch(con, accepted, rejected, kind_tables=reference_tables.KIND_TABLES,
                             build_frames=reference_tables.frames_for, schemas=reference_tables.SCHEMAS,
                             primary_keys=reference_tables.PRIMARY_KEYS)
    finally:
        con.close()
    result.read = len(files)
    result.counts.add(counts)
    result.rejections.extend(rejected)
    result.seconds = time.perf_counter() - started
    return result


def read_batch(files: Iterable[Path], progress: Callable[[int, int], None] | None = None,
               ) -> tuple[list[Accepted], list[Rejected]]:
    files = list(files)
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    for done, path in enumerate(files, start=1):
        source = read_source(path)
        outcome = source if isinstance(source, Rejected) else read_reference(source)
        (accepted if isinstance(outcome, Accepted) else rejected).append(outcome)
        if progress:
            progress(done, len(files))
    return accepted, rejected
