"""Readers: turn files and directories into validated documents or precise rejections.

Each document is recognised by its shape (its top-level keys), or, for film
highlight chunks, by its name `<film-major-version>_<match-id>.gzip`. A reader
never raises for bad input: it yields a `Rejected` naming the file, the match
(when it can tell) and the field path.
"""

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, TypeAdapter, ValidationError
from spnkr.film import highlight_events as spnkr_events

from loader.api.base import to_pascal, typed_dict_of
from loader.api.career_rank import CareerRank
from loader.api.highlight_events import HighlightEvent, HighlightEvents
from loader.api.match_history import MatchHistory
from loader.api.match_skill import MatchSkill
from loader.api.match_stats import MatchStats
from loader.api.playlist_csr import PlaylistCsr
from loader.api.profile import ProfileUsers
from loader.api.service_record import ServiceRecord
from loader.ingest.documents import Accepted, Rejected, Source, format_validation_error, reject_if_not_text
from loader.ingest.shapes import (
    FILM_CHUNK_NAME,
    MATCH_ID_IN_BYTES,
    NOT_STORED,
    REFERENCE_MARKERS,
    UUID_IN_NAME,
    detect_kind,
    detect_reference_kind,
    looks_like_film_chunk,
)

# kind -> (model, what the user sees in messages)
MATCH_KINDS: dict[str, type[BaseModel]] = {
    "match_stats": MatchStats,
    "match_history": MatchHistory,
    "match_skill": MatchSkill,
    "highlight_events": HighlightEvents,
    "career_rank": CareerRank,
    "service_record": ServiceRecord,
    "playlist_csr": PlaylistCsr,
    "profile_users": ProfileUsers,
}
ACCEPTED_SHAPES = (
    "match stats (MatchId, MatchInfo, Teams, Players), "
    "match history (Start, Count, ResultCount, Results), "
    "match skill (Value[].Id/ResultCode/Result; match id from MatchId or the file name), "
    "career rank (CurrentProgress), "
    "service record (Subqueries, CoreStats), playlist CSR (Value[].Result.Current/SeasonMax/AllTimeMax), "
    "profile lookup (a list of users with xuid and gamertag), "
    "highlight events JSON (MatchId, FilmMajorVersion, Events), "
    "film highlight chunk named <film-major-version>_<match-id>.gzip"
)


def _payload(kind: str, source: Source) -> bytes:
    """The bytes to validate: a profile lookup (a list of users, or one user) is wrapped as `{"users": [...]}`."""
    data = source.json_bytes
    if kind != "profile_users":
        return data
    return b'{"users":' + data + b"}" if data.lstrip().startswith(b"[") else b'{"users":[' + data + b"]}"


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
    if looks_like_film_chunk(source.data):
        return _misnamed_film_chunk(source)
    not_text = reject_if_not_text(source)
    if not_text is not None:
        return not_text
    kind = detect_kind(source.json_bytes)
    if kind is None:
        return _reject_unrecognised(source)
    hint = _match_id_hint(source)
    try:
        doc = FAST_ADAPTERS[kind].validate_json(_payload(kind, source))
    except ValidationError:
        # Invalid, or holding an integer beyond 17 digits or an aware timestamp in year 1 or 9999: the model
        # decides, with its messages (the fast schema accepts exactly what the model accepts, minus those values).
        return _read_with_model(kind, source, hint)
    problem = integrity_problem(kind, doc)
    if problem is not None:
        return _integrity_rejection(kind, source, hint, problem)
    return _accept(kind, doc, source)


def _read_with_model(kind: str, source: Source, hint: str | None) -> Accepted | Rejected:
    """Validate with the pydantic model (exact messages), then check what the fast schema flags."""
    try:
        model = MATCH_KINDS[kind].model_validate_json(_payload(kind, source))
    except ValidationError as err:
        where = f" (match {hint})" if hint else ""
        first = err.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            return Rejected(source, f"not valid JSON{where}: {first['msg']}; the file is truncated or corrupt: "
                                    "re-download it", kind, hint)
        return Rejected(source, f"invalid {kind.replace('_', ' ')}{where}: {format_validation_error(err)}; "
                                "fix or re-download the file", kind, hint)
    doc = model.model_dump()  # the same dicts, tuples and values as the fast schema's output
    problem = integrity_problem(kind, doc)
    if problem is None and _suspect_bytes(source.data):
        problem = _out_of_range(model)
    if problem is not None:
        return _integrity_rejection(kind, source, hint, problem)
    return _accept(kind, doc, source)


def _integrity_rejection(kind: str, source: Source, hint: str | None, problem: str) -> Rejected:
    where = f" (match {hint})" if hint else ""
    return Rejected(source, f"invalid {kind.replace('_', ' ')}{where}: {problem}; fix or re-download the file",
                    kind, hint)


# Integers the raw tables can hold with room for summing a player's team entries: at most 17 digits.
MAX_ABS_INT = 10**17 - 1
MAX_TEAM_ENTRIES = 64
# Cheap byte scans that decide whether a document needs the (slower) walk over every value:
# long digit runs or exponents (big integers), and years at the edge of the calendar (timestamps
# whose UTC form does not exist). Written as bytes.translate + find (C speed): a regular expression
# doing the same costs as much as the validation itself, and a loose one (`\d[eE]\d`) matches the hex
# digits of every UUID, which sent every document through the walk (~6x the validation).
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 18
_NUMBER_STARTS = frozenset(b":,[")
_SPACES = frozenset(b" \t\r\n")


def _suspect_bytes(data: bytes) -> bool:
    """True when the document may hold an integer beyond 17 digits (a long digit run or a JSON number with an
    exponent) or a timestamp in year 1 or 9999. False positives only cost the exact walk."""
    if b'"0001-' in data or b'"9999-' in data:
        return True
    numbers = data.translate(_DIGITS)
    if _LONG_DIGIT_RUN in numbers:
        return True
    for marker in (b"0e", b"0E"):
        at = numbers.find(marker)
        while at >= 0:
            i = at
            while i > 0 and numbers[i - 1] in (48, 46):  # digits and the decimal point
                i -= 1
            if i > 0 and numbers[i - 1] == 45:  # a minus sign
                i -= 1
            while i > 0 and numbers[i - 1] in _SPACES:
                i -= 1
            if i > 0 and numbers[i - 1] in _NUMBER_STARTS:  # a number token, not hex digits inside a string
                return True
            at = numbers.find(marker, at + 1)
    return False


def _values(value: Any) -> Iterator[tuple[str, Any]]:
    """(field path, leaf value) of a validated model, depth first."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, BaseModel):
            stack.extend((f"{path}.{to_pascal(name)}" if path else to_pascal(name), v)
                         for name, v in item.__dict__.items())
        elif isinstance(item, (tuple, list)):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(item))
        elif isinstance(item, dict):
            for key, v in item.items():
                stack.append((f"{path}[{key!r}]", key))
                stack.append((f"{path}[{key!r}]", v))
        else:
            yield path, item


def _out_of_range(model: Any) -> str | None:
    for path, value in _values(model):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ABS_INT:
            return f"{path}: {value} is out of range (at most 17 digits)"
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            try:
                value.astimezone(dt.UTC)
            except (OverflowError, ValueError):
                return f"{path}: {value.isoformat()} has no UTC time within years 1-9999"
    return None


def _duplicate(values: Iterable[Any]) -> Any:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            return value
        seen.add(value)
    return None


def _xuid_out_of_range(player_ids: Iterable[str]) -> str | None:
    """A `xuid(N)` id whose N is not plain ASCII digits of a storable number (e.g. `xuid(²)`)."""
    for player_id in player_ids:
        if player_id.startswith("xuid(") and player_id.endswith(")") and player_id[5:-1].isdigit():
            digits = player_id[5:-1]
            if not digits.isascii() or len(digits) > 17:
                return player_id
    return None


def integrity_problem(kind: str, doc: dict[str, Any]) -> str | None:
    """What makes a schema-valid document (validated dicts) impossible to store as one consistent set of rows:
    duplicate natural keys inside one document (a player or team listed twice, a skill entry twice, a match twice
    on one history page), or None. Integers beyond 17 digits and timestamps without a UTC form are the fast
    schema's checks (FAST_ADAPTERS), then `_out_of_range` on the model."""
    if kind == "match_stats":
        players = doc["players"]
        player_ids = [p["player_id"] for p in players]
        if len(set(player_ids)) != len(player_ids):
            return f"Players: player {_duplicate(player_ids)} is listed twice"
        team_ids = [t["team_id"] for t in doc["teams"]]
        if len(set(team_ids)) != len(team_ids):
            return f"Teams: team {_duplicate(team_ids)} is listed twice"
        bad = _xuid_out_of_range(player_ids)
        if bad is not None:
            return f"Players: player id {bad[:40]} is not a valid XUID"
        many = next((p["player_id"] for p in players if len(p["player_team_stats"]) > MAX_TEAM_ENTRIES), None)
        if many is not None:
            return f"Players: player {many} has more than {MAX_TEAM_ENTRIES} PlayerTeamStats entries"
    elif kind == "match_skill":
        ids = [v["id"] for v in doc["value"]]
        dup = _duplicate(ids)
        if dup is not None:
            return f"Value: player {dup} is listed twice"
        bad = _xuid_out_of_range(ids)
        if bad is not None:
            return f"Value: player id {bad[:40]} is not a valid XUID"
    elif kind == "playlist_csr":
        dup = _duplicate(v["id"] for v in doc["value"])
        if dup is not None:
            return f"Value: player {dup} is listed twice"
    elif kind == "match_history":
        dup = _duplicate(r["match_id"] for r in doc["results"])
        if dup is not None:
            return f"Results: match {dup} is listed twice"
    return None


def _flag_calendar_edge(value: dt.datetime) -> dt.datetime:
    """An aware timestamp in year 1 or 9999 may have no UTC form: send the document to the model's walk."""
    if value.tzinfo is not None and (value.year == 1 or value.year == 9999):
        raise ValueError("timestamp at the edge of the calendar")
    return value


# The hot path validates into plain dicts (TypedDicts generated from the models: same fields, aliases, defaults,
# constraints). Its integers are range-checked and its aware timestamps checked for the calendar's edge years in
# the schema itself, so a valid document needs no byte scan or value walk; a document failing any of it is
# validated again with the model (`_read_with_model`), which gives the messages and runs the exact checks.
_CHECKED_LEAVES = {
    int: Annotated[int, Field(ge=-MAX_ABS_INT, le=MAX_ABS_INT)],
    dt.datetime: Annotated[dt.datetime, AfterValidator(_flag_calendar_edge)],
}
FAST_ADAPTERS: dict[str, TypeAdapter] = {kind: TypeAdapter(typed_dict_of(model, _CHECKED_LEAVES))
                                         for kind, model in MATCH_KINDS.items()}


def _reject_unrecognised(source: Source) -> Rejected:
    try:
        MatchHistory.model_validate_json(source.json_bytes)  # cheapest way to get a JSON syntax error message
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            return Rejected(source, f"not valid JSON: {first['msg']}; re-download the file")
    for marker, message in NOT_STORED.items():
        if marker in source.data:
            return Rejected(source, message)
    if detect_reference_kind(source.data) is not None or any(marker in source.data for marker in REFERENCE_MARKERS):
        return Rejected(source, "looks like reference data (medals, assets, career track, calendars): "
                                "load it with `halo load reference`")
    return Rejected(source, f"not a recognised document; accepted shapes are: {ACCEPTED_SHAPES}")


def _accept(kind: str, doc: dict[str, Any], source: Source) -> Accepted | Rejected:
    """An accepted document; `model` is the validated dicts (field names as keys)."""
    if kind == "match_stats" or kind == "highlight_events":
        return Accepted(kind, str(doc["match_id"]), doc["match_id"], source, doc)
    if kind == "match_skill":
        match_id = doc["match_id"]
        if match_id is None:
            in_name = UUID_IN_NAME.search(source.path.name)
            if in_name is None:
                return Rejected(source, "match skill without a match id: the API's skill response does not name "
                                        "its match; name the file skill_<match-id>.json (any name holding the "
                                        "match id) or add a top-level \"MatchId\"", kind)
            match_id = UUID(in_name.group(0))
        return Accepted(kind, str(match_id), match_id, source, doc)
    if kind == "match_history" or kind == "profile_users":
        return Accepted(kind, source.sha256, None, source, doc)
    if kind == "service_record" or kind == "playlist_csr":
        observed = (doc["observed_at"] or source.mtime).astimezone(dt.UTC).isoformat()
        if kind == "service_record":
            return Accepted(kind, f"service_record@{observed}", None, source, doc)
        playlist = doc["playlist_id"]
        in_name = UUID_IN_NAME.search(source.path.name)
        doc["playlist_asset_id"] = str(playlist) if playlist else in_name.group(0).lower() if in_name else None
        return Accepted(kind, f"{doc['playlist_asset_id'] or 'unknown-playlist'}@{observed}", None, source, doc)
    # career_rank: one snapshot per observation time; the file's mtime stands in when the document has none
    observed_at = doc["observed_at"] or source.mtime
    spartan = doc["spartan_id"] or ""
    return Accepted(kind, f"{spartan}@{observed_at.astimezone(dt.UTC).isoformat()}", None, source, doc)


# Film major versions SPNKr 0.10.x reads (its test suite decodes real chunks of versions 30, 31 and 33-41), by
# event layout: `spnkr.film.highlight_events._tokens` reads 39 and 40 with the gamertag 12 bytes later than every
# other version. Within a layout the bytes do not tell versions apart (a 38 chunk decodes the same as 37 or 41).
FILM_LAYOUTS: tuple[tuple[int, ...], ...] = ((*range(30, 39), 41), (39, 40))
KNOWN_FILM_VERSIONS: tuple[int, ...] = tuple(range(30, 42))
MAX_GAMERTAG_CHARS = 16  # the chunk's gamertag field: 16 UTF-16 characters


def _versions_text(versions: Iterable[int]) -> str:
    """(30, 31, ..., 38, 41) -> '30-38, 41'."""
    runs: list[list[int]] = []
    for version in sorted(versions):
        if runs and version == runs[-1][-1] + 1:
            runs[-1].append(version)
        else:
            runs.append([version])
    return ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def _decode_chunk(data: bytes, version: int) -> list[HighlightEvent]:
    return [HighlightEvent(**event._asdict()) for event in spnkr_events.read(data, version)]


def implausible_events(events: Sequence[HighlightEvent]) -> str | None:
    """What makes decoded events garbage (a chunk read with the wrong layout): a gamertag that is empty, longer than
    the chunk's field or holds control characters (NUL bytes of a shifted read). None when every gamertag is text."""
    for index, event in enumerate(events):
        gamertag = event.gamertag
        if not gamertag or len(gamertag) > MAX_GAMERTAG_CHARS or not gamertag.isprintable():
            return (f"event {index} (xuid {event.xuid}, {event.event_type} at {event.time_ms} ms) has the gamertag "
                    f"{gamertag[:40]!r}, not printable text of 1-{MAX_GAMERTAG_CHARS} characters")
    return None


def _decodes_as(data: bytes, tried: int) -> tuple[int, ...] | None:
    """The layout (its versions) other than `tried`'s with which the chunk decodes plausibly, or None."""
    for layout in FILM_LAYOUTS:
        if tried in layout:
            continue
        try:
            events = _decode_chunk(data, layout[0])
        except Exception:  # same failures as in `_read_film_chunk`
            continue
        if events and implausible_events(events) is None:
            return layout
    return None


def _rename_hint(layout: tuple[int, ...], named: int, match_id: UUID) -> str:
    below = [v for v in layout if v <= named]
    example = max(below) if below else min(layout)
    versions = _versions_text(layout)
    return (f"it decodes as a chunk of version {versions}: rename it {example}_{match_id}.gzip (or "
            f"<FilmMajorVersion>_{match_id}.gzip with the version in the film's metadata, one of {versions})")


def _misnamed_film_chunk(source: Source) -> Rejected:
    """A zlib stream not named `<version>_<match-id>.gzip`: a film highlight chunk whose name lost what tells its
    version and match. SPNKr's reader says whether it decodes (and as which versions)."""
    in_name = UUID_IN_NAME.search(source.path.name)
    match_id = in_name.group(0).lower() if in_name else None
    layout = _decodes_as(source.data, -1)
    if layout is None:
        return Rejected(source, "a zlib stream (like a film highlight chunk) that SPNKr's reader cannot decode as a "
                                "highlight chunk: re-download the film chunk", "highlight_events", match_id)
    versions = _versions_text(layout)
    return Rejected(source, f"a film highlight chunk (it decodes as film major version {versions}), but its name "
                            f"{source.path.name!r} does not say its version and match: rename it "
                            f"<FilmMajorVersion>_{match_id or '<match-id>'}.gzip (the version is FilmMajorVersion "
                            f"in the film's metadata, one of {versions}; the match id is the match the film is of)",
                    "highlight_events", match_id)


def _read_film_chunk(source: Source, version: int, match_id: UUID) -> Accepted | Rejected:
    """Decode a highlight chunk with SPNKr's reader; a decoding failure, a version SPNKr does not read or events
    that are not plausible (the chunk read with the wrong layout) reject the chunk."""
    def reject(reason: str) -> Rejected:
        return Rejected(source, reason, "highlight_events", str(match_id))

    if version not in KNOWN_FILM_VERSIONS:
        layout = _decodes_as(source.data, -1)
        found = (_rename_hint(layout, version, match_id) if layout else
                 "it decodes as none of them: re-download the film chunk")
        return reject(f"film highlight chunk named version {version}: SPNKr reads film major versions "
                      f"{_versions_text(KNOWN_FILM_VERSIONS)} only; {found}")
    try:
        events = _decode_chunk(source.data, version)
    except Exception as exc:  # zlib.error, spnkr FilmReadError, bitstring errors: all mean a bad chunk
        layout = _decodes_as(source.data, version)
        if layout is not None:
            return reject(f"film highlight chunk named version {version} does not decode as version {version} "
                          f"({type(exc).__name__}: {exc}); {_rename_hint(layout, version, match_id)}")
        return reject(f"corrupt film highlight chunk (version {version}): {type(exc).__name__}: {exc}; "
                      "re-download the film chunk")
    if not events:
        return reject(f"film highlight chunk (version {version}) holds no events: truncated or not a "
                      "highlight chunk; re-download it")
    problem = implausible_events(events)
    if problem is not None:
        layout = _decodes_as(source.data, version)
        if layout is not None:
            return reject(f"film highlight chunk named version {version} does not decode as version {version} "
                          f"({problem}); {_rename_hint(layout, version, match_id)}")
        return reject(f"corrupt film highlight chunk (version {version}): {problem}; re-download the film chunk")
    model = HighlightEvents(match_id=match_id, film_major_version=version, events=tuple(events))
    problem = _out_of_range(model)
    if problem is not None:
        return reject(f"corrupt film highlight chunk (version {version}): {problem}; re-download the film chunk")
    return Accepted("highlight_events", str(match_id), match_id, source, model.model_dump())
