"""What a sync keeps on disk: the inboxes (responses as received, awaiting a load) and the sync state files.

- `players/<player-dir>/inbox/`, `warehouse/inbox/`: each response is written to
  a hidden `.part` file, fsynced, then renamed to its final name, so a file with
  a final name is always complete. Files are deleted only after the load that
  read them committed (the database keeps their bytes in `raw.documents` /
  `raw.rejected`); whatever is left is loaded first by the next sync.
- `players/<player-dir>/sync_state.json`: the owner's XUID, matches still to
  fetch (new or failed, with attempts and last error), matches the API does not
  have, matches without film or skill. `warehouse/sync_state.json`: reference
  assets the API does not have. No tokens, ever.
"""

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loader.core.duckdb_files import read_only_rows
from loader.core.errors import UsageError

STATE_NAME = "sync_state.json"
INBOX_NAME = "inbox"
LOADABLE_SUFFIXES = (".json", ".gzip")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp() -> str:
    """A file-name timestamp, unique enough for one process (microseconds)."""
    return utc_now().strftime("%Y%m%dT%H%M%S%fZ")


def write_atomic(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` as `folder/name`: complete or not at all, durable before the rename."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    part = folder / f".{name}.part"
    with open(part, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(part, final)
    return final


def inbox_files(folder: Path) -> list[Path]:
    """Complete responses waiting in an inbox (stale `.part` files of a crashed write are removed)."""
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        if path.name.startswith("."):
            if path.name.endswith(".part"):
                path.unlink(missing_ok=True)
            continue
        if path.suffix.lower() in LOADABLE_SUFFIXES:
            files.append(path)
    return files


def remove_loaded(files: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)


def _save_json(path: Path, payload: dict) -> None:
    write_atomic(path.parent, path.name, (json.dumps(payload, indent=1, sort_keys=True) + "\n").encode())


def _load_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is damaged ({exc}): fix or delete it (it only lists matches to retry "
                         "and matches the API does not have)") from exc
    return data if isinstance(data, dict) else {}


@dataclass
class PlayerState:
    """`sync_state.json` of a player. Match ids are lower-case strings."""

    xuid: int | None = None
    pending: dict[str, dict] = field(default_factory=dict)       # id -> {"attempts": n, "error": str | None}
    unavailable: dict[str, str] = field(default_factory=dict)    # id -> why (stats 404/403/400, rejected)
    without_film: dict[str, str] = field(default_factory=dict)   # id -> why (404, no highlight chunk)
    without_skill: dict[str, str] = field(default_factory=dict)  # id -> why
    career_rank_due: bool = False
    last_sync: str | None = None

    @classmethod
    def load(cls, folder: Path) -> "PlayerState":
        data = _load_json(folder / STATE_NAME)
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    def save(self, folder: Path) -> None:
        _save_json(folder / STATE_NAME, asdict(self))

    def failed(self) -> dict[str, str]:
        return {mid: entry.get("error") or "" for mid, entry in self.pending.items() if entry.get("attempts")}


@dataclass
class WarehouseState:
    """`warehouse/sync_state.json`: reference assets the API answered 400/403/404 for (not asked again)."""

    unavailable_assets: dict[str, str] = field(default_factory=dict)   # "<kind>:<asset-id>" -> why
    medals_unknown_at_last_fetch: list[int] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> "WarehouseState":
        data = _load_json(folder / STATE_NAME)
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    def save(self, folder: Path) -> None:
        _save_json(folder / STATE_NAME, asdict(self))


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    return read_only_rows(path, (sql, params or []))[0]


@dataclass
class PlayerDocuments:
    """What a player's database already holds (read before anything is fetched)."""

    stats: set[str] = field(default_factory=set)
    skill: set[str] = field(default_factory=set)
    film: set[str] = field(default_factory=set)
    career_ranks: int = 0
    owner: int | None = None

    @classmethod
    def read(cls, database: Path) -> "PlayerDocuments":
        docs = cls()
        documents, ranks, owner = read_only_rows(
            database,
            "SELECT kind, lower(doc_id) FROM raw.documents "
            "WHERE kind IN ('match_stats', 'match_skill', 'highlight_events')",
            "SELECT count(*) FROM raw.documents WHERE kind = 'career_rank'",
            "SELECT xuid FROM raw.owner")
        for kind, doc_id in documents:
            {"match_stats": docs.stats, "match_skill": docs.skill, "highlight_events": docs.film}[kind].add(doc_id)
        docs.career_ranks = ranks[0][0] if ranks else 0
        docs.owner = owner[0][0] if owner else None
        return docs


def known_gamertags(database: Path) -> set[int]:
    """XUIDs whose gamertag the database knows (a profile lookup or a film names them)."""
    profiles, films = read_only_rows(database, "SELECT DISTINCT xuid FROM raw.profile_users",
                              "SELECT DISTINCT xuid FROM raw.highlight_events WHERE gamertag <> ''")
    return {row[0] for row in profiles + films if row[0] is not None}


def human_players(database: Path, match_id: str) -> list[str]:
    """`xuid(N)` of the humans of a stored match (for a skill request of a match loaded earlier)."""
    rows = query(database, "SELECT player_id FROM raw.match_players WHERE lower(match_id) = ? AND NOT is_bot "
                           "ORDER BY player_id", [match_id])
    return [row[0] for row in rows]
