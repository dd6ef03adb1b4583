"""Shared matches: what a player's sync needs that another tracked player's database already holds.

A match played by several tracked players has one stats document and one film for all of them, and one skill
document too, as `halo sync` asks the skill service for every human of the match (the same request, whoever
asks). So before a sync asks the API for a match's parts, it looks in the other tracked players' databases:

- documents: `raw.documents` keeps every original body (`match_stats`, `match_skill`, `highlight_events`); a
  body is taken when it is this player's to load: a match stats document must list the player, a skill document
  must have the player's entry (a skill document loaded by `halo load` may hold fewer players). It is written to
  the player's inbox under the name the API's answer would have had, and loaded by the normal load, with its
  validation and ownership checks.
- absences: a film or skill the API answered "not there" for (HTTP 400/403/404, a film without a highlight
  chunk), as recorded in the other player's `sync_state.json`: the same request would get the same answer. A
  give-up after repeated failures (`gave up after ...`) is no answer and is not shared.

The other databases are opened read-only, one at a time, never written. One that cannot be read (another process
is writing it: DuckDB allows one writer and no reader beside it; damaged; of another DuckDB version) is skipped
with a note: whatever it holds is asked of the API, as if it were not there.
"""

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loader.core.errors import UsageError
from loader.core.paths import PLAYER_DB_NAME
from loader.ingest.export import export_name
from loader.sync.store import PlayerState

PARTS = {"match_stats": "stats", "match_skill": "skill", "highlight_events": "film"}
KINDS = {part: kind for kind, part in PARTS.items()}
# API requests a part costs when the sync fetches it (a film: its metadata, then the highlight chunk); a part
# known to be absent cost the one request that answered so
CALLS = {"stats": 1, "skill": 1, "film": 2}
ABSENCE_CALLS = 1
GIVE_UP = "gave up after"          # engine.PlayerSync.record_failure: not an answer of the API
LOCAL_ABSENCES = ("no human players",)   # decided without a request: nothing to save
TOLD = "(told "                  # an absence taken from another player: "<why> (told <gamertag>'s sync)"


@dataclass(frozen=True)
class Taken:
    """A document of another tracked player's database, to be written to this player's inbox as `name`."""

    part: str
    match_id: str
    name: str
    body: bytes
    source: str      # the other player's gamertag


@dataclass(frozen=True)
class Absent:
    """A film or skill the API told another tracked player's sync it does not have (`why` names that player)."""

    part: str
    match_id: str
    why: str
    source: str


@dataclass(frozen=True)
class Unreadable:
    """Another tracked player's database or sync state that could not be read (its parts are asked of the API)."""

    source: str
    path: Path
    why: str


def shared_parts(root: Path, database: Path, wanted: dict[str, set[str]], player_id: str,
                 ) -> Iterator[Taken | Absent | Unreadable]:
    """What the other tracked players hold of `wanted` (match id -> parts still needed: "stats", "skill",
    "film"). Parts found are removed from `wanted` as they are yielded. Documents first (every other player's
    database, opened once each, in folder order), then absences."""
    mine = database.resolve()
    others = [db for db in sorted(root.glob(f"players/*/{PLAYER_DB_NAME}")) if db.resolve() != mine]
    names = {db: db.parent.name for db in others}      # the gamertag in raw.owner once the file is read
    for other in others:
        if not any(wanted.values()):
            return
        try:
            yield from _documents(other, names, wanted, player_id)
        except (duckdb.Error, OSError) as exc:
            yield Unreadable(names[other], other, _why(exc))
    for other in others:
        if not any(wanted.get(mid, set()) - {"stats"} for mid in wanted):
            return
        try:
            state = PlayerState.load(other.parent)
        except UsageError as exc:
            yield Unreadable(names[other], other.parent / "sync_state.json", str(exc))
            continue
        for part, recorded in (("film", state.without_film), ("skill", state.without_skill)):
            for mid, why in sorted(recorded.items()):
                if part in wanted.get(mid, ()) and shareable_absence(why):
                    wanted[mid].discard(part)
                    told = why if TOLD in why else f"{why} {TOLD}{names[other]}'s sync)"
                    yield Absent(part, mid, told, names[other])


def shareable_absence(why: str) -> bool:
    return not why.startswith(GIVE_UP) and why not in LOCAL_ABSENCES


def _documents(database: Path, names: dict[Path, str], wanted: dict[str, set[str]], player_id: str,
               ) -> Iterator[Taken]:
    with duckdb.connect(str(database), read_only=True) as con:
        try:
            owner = con.execute("SELECT gamertag FROM raw.owner").fetchall()
            stored = con.execute("SELECT kind, doc_id, lower(doc_id) FROM raw.documents WHERE kind IN "
                                 "('match_stats', 'match_skill', 'highlight_events')").fetchall()
        except duckdb.CatalogException:   # created, nothing loaded yet
            return
        if owner:
            names[database] = owner[0][0]
        for kind, doc_id, mid in sorted(stored, key=lambda row: (row[2], row[0])):
            part = PARTS[kind]
            if part not in wanted.get(mid, ()):
                continue
            rows = con.execute("SELECT source_path, body FROM raw.documents WHERE kind = ? AND doc_id = ?",
                               [kind, doc_id]).fetchall()
            if not rows or not is_for(part, rows[0][1], player_id):
                continue
            source_path, body = rows[0]
            wanted[mid].discard(part)
            yield Taken(part, mid, export_name(kind, mid, source_path or "", body), body, names[database])


def is_for(part: str, body: bytes, player_id: str) -> bool:
    """Whether a stored document is this player's to load: stats list the player, skill has the player's entry
    (the loader checks both again); a film is match data, anyone's."""
    if part == "film":
        return True
    try:
        data = json.loads(body[len(codecs.BOM_UTF8):] if body.startswith(codecs.BOM_UTF8) else body)
        if part == "stats":
            return any(p.get("PlayerId") == player_id for p in data.get("Players") or [])
        return any(v.get("Id") == player_id for v in data.get("Value") or [])
    except (ValueError, AttributeError, TypeError):
        return False


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "lock" in text.lower():
        return "busy: another process has it open for writing"
    return f"{type(exc).__name__}: {text[:200]}"
