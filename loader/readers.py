"""Readers: turn files and directories into validated documents or precise rejections.

Each document is recognised by its shape (its top-level keys), or, for film
highlight chunks, by its name `<film-major-version>_<match-id>.gzip`. A reader
never raises for bad input: it yields a `Rejected` naming the file, the match
(when it can tell) and the field path.
"""

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError
from spnkr.film import highlight_events as spnkr_events

from loader.models.career_rank import CareerRank
from loader.models.highlight_events import HighlightEvent, HighlightEvents
from loader.models.match_history import MatchHistory
from loader.models.match_skill import MatchSkill
from loader.models.match_stats import MatchStats

FILM_CHUNK_NAME = re.compile(r"^(\d{1,4})_([0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})\.gzip$")
UUID_IN_NAME = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
MATCH_ID_IN_BYTES = re.compile(rb'"MatchId"\s*:\s*"([^"]{1,64})"')
READABLE_SUFFIXES = {".json", ".gzip"}

# kind -> (model, what the user sees in messages)
MATCH_KINDS: dict[str, type[BaseModel]] = {
    "match_stats": MatchStats,
    "match_history": MatchHistory,
    "match_skill": MatchSkill,
    "highlight_events": HighlightEvents,
    "career_rank": CareerRank,
}
ACCEPTED_SHAPES = (
    "match stats (MatchId, MatchInfo, Teams, Players), "
    "match history (Start, Count, ResultCount, Results), "
    "match skill (Value[].Id/ResultCode/Result; match id from MatchId or the file name), "
    "career rank (CurrentProgress), "
    "highlight events JSON (MatchId, FilmMajorVersion, Events), "
    "film highlight chunk named <film-major-version>_<match-id>.gzip"
)
NOT_STORED = {
    b'"FilmStatusBond"': "film metadata, not a highlight chunk: download the highlight-events chunk it lists and "
                         "save it as <film-major-version>_<match-id>.gzip",
    b'"Subqueries"': "service record: not stored (the warehouse computes totals from the matches themselves)",
    b'"MatchesPlayedCount"': "match count: not stored (the warehouse counts the loaded matches)",
    b'"SeasonMax"': "playlist CSR: not stored (CSR per match comes from match skill documents)",
}
REFERENCE_MARKERS = (b'"Medals"', b'"medals"', b'"Sprites"', b'"RankTitle"', b'"PublicName"', b'"Seasons"', b'"Playlists"')


@dataclass(frozen=True)
class Source:
    """One file as read: its path, bytes and modification time (UTC)."""

    path: Path
    data: bytes
    mtime: dt.datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Accepted:
    """A validated document: `doc_id` is its natural id within its kind."""

    kind: str
    doc_id: str
    match_id: UUID | None
    source: Source
    model: Any


@dataclass(frozen=True)
class Rejected:
    """A document that was not loaded, and why (file, match, field path, what to do)."""

    source: Source
    reason: str
    kind: str | None = None
    match_id: str | None = None


class UsageError(Exception):
    """A path given on the command line does not exist."""


def iter_sources(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named directly, and `*.json` / `*.gzip` files found below directories, sorted."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in READABLE_SUFFIXES and not child.name.startswith("."):
                    yield child
        elif path.is_file():
            yield path
        else:
            raise UsageError(f"{path}: no such file or directory")


def read_source(path: Path) -> Source:
    stat = path.stat()
    mtime = dt.datetime.fromtimestamp(stat.st_mtime, tz=dt.timezone.utc)
    return Source(path=path, data=path.read_bytes(), mtime=mtime)


def format_validation_error(err: ValidationError, limit: int = 5) -> str:
    """`Players[3].PlayerTeamStats[0].Stats.CoreStats.Kills: Input should be a valid integer (got 'x')`."""
    parts = []
    for item in err.errors(include_url=False)[:limit]:
        path = ""
        for loc in item["loc"]:
            path += f"[{loc}]" if isinstance(loc, int) else (f".{loc}" if path else str(loc))
        got = item.get("input")
        shown = "" if item["type"] in ("missing", "json_invalid") else f" (got {_short(got)})"
        parts.append(f"{path or '<document>'}: {item['msg']}{shown}")
    more = err.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def detect_kind(data: bytes) -> str | None:
    """Recognise a JSON document by its top-level keys (cheap byte scan; validation confirms)."""
    if b'"FilmMajorVersion"' in data and b'"Events"' in data:
        return "highlight_events"
    if b'"ResultCount"' in data and b'"Results"' in data:
        return "match_history"
    if b'"MatchInfo"' in data and b'"Players"' in data:
        return "match_stats"
    if b'"CurrentProgress"' in data:
        return "career_rank"
    if b'"Value"' in data and b'"ResultCode"' in data and b'"SeasonMax"' not in data:
        return "match_skill"
    return None


def _match_id_hint(source: Source) -> str | None:
    found = MATCH_ID_IN_BYTES.search(source.data[:4096])
    if found:
        return found.group(1).decode("utf-8", "replace")
    in_name = UUID_IN_NAME.search(source.path.name)
    return in_name.group(0).lower() if in_name else None


def read_document(source: Source) -> Accepted | Rejected:
    """Validate one file's bytes as whichever match-side document it is."""
    name_match = FILM_CHUNK_NAME.match(source.path.name)
    if name_match:
        return _read_film_chunk(source, int(name_match.group(1)), UUID(name_match.group(2)))
    if not source.data.strip():
        return Rejected(source, "empty file: expected a JSON document; re-download it")
    try:
        source.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected(source, f"not UTF-8 text (byte {exc.start}): expected a JSON document; re-download it")
    kind = detect_kind(source.data)
    if kind is None:
        return _reject_unrecognised(source)
    hint = _match_id_hint(source)
    try:
        model = MATCH_KINDS[kind].model_validate_json(source.data)
    except ValidationError as err:
        where = f" (match {hint})" if hint else ""
        first = err.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            return Rejected(source, f"not valid JSON{where}: {first['msg']}; the file is truncated or corrupt: "
                                    "re-download it", kind, hint)
        return Rejected(source, f"invalid {kind.replace('_', ' ')}{where}: {format_validation_error(err)}; "
                                "fix or re-download the file", kind, hint)
    return _accept(kind, model, source)


def _reject_unrecognised(source: Source) -> Rejected:
    try:
        MatchHistory.model_validate_json(source.data)  # cheapest way to get a JSON syntax error message
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            return Rejected(source, f"not valid JSON: {first['msg']}; re-download the file")
    for marker, message in NOT_STORED.items():
        if marker in source.data:
            return Rejected(source, message)
    from loader.load_reference import detect_reference_kind  # here: load_reference imports this module

    if detect_reference_kind(source.data) is not None or any(marker in source.data for marker in REFERENCE_MARKERS):
        return Rejected(source, "looks like reference data (medals, assets, career track, calendars): "
                                "load it with `halo load reference`")
    return Rejected(source, f"not a recognised document; accepted shapes are: {ACCEPTED_SHAPES}")


def _accept(kind: str, model: Any, source: Source) -> Accepted | Rejected:
    if kind == "match_stats":
        return Accepted(kind, str(model.match_id), model.match_id, source, model)
    if kind == "highlight_events":
        return Accepted(kind, str(model.match_id), model.match_id, source, model)
    if kind == "match_skill":
        match_id = model.match_id
        if match_id is None:
            in_name = UUID_IN_NAME.search(source.path.name)
            if in_name is None:
                return Rejected(source, "match skill has no match id: add a top-level MatchId or put the "
                                        "match id in the file name (e.g. skill_<match-id>.json)", kind)
            match_id = UUID(in_name.group(0))
        return Accepted(kind, str(match_id), match_id, source, model)
    if kind == "match_history":
        return Accepted(kind, source.sha256, None, source, model)
    # career_rank: one snapshot per observation time; the file's mtime stands in when the document has none
    observed_at = model.observed_at or source.mtime
    spartan = model.spartan_id or ""
    return Accepted(kind, f"{spartan}@{observed_at.astimezone(dt.timezone.utc).isoformat()}", None, source, model)


def _read_film_chunk(source: Source, version: int, match_id: UUID) -> Accepted | Rejected:
    """Decode a highlight chunk with SPNKr's reader; any decoding failure rejects the chunk."""
    try:
        events = [HighlightEvent(**event._asdict()) for event in spnkr_events.read(source.data, version)]
    except Exception as exc:  # zlib.error, spnkr FilmReadError, bitstring errors: all mean a bad chunk
        return Rejected(source, f"corrupt film highlight chunk (version {version}): {type(exc).__name__}: {exc}; "
                                "re-download the film chunk", "highlight_events", str(match_id))
    if not events:
        return Rejected(source, f"film highlight chunk (version {version}) holds no events: truncated or not a "
                                "highlight chunk; re-download it", "highlight_events", str(match_id))
    model = HighlightEvents(match_id=match_id, film_major_version=version, events=tuple(events))
    return Accepted("highlight_events", str(match_id), match_id, source, model)
