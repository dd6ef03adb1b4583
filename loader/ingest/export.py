"""`halo export`: a player's bronze layer (every stored original document) to a portable folder.

Each document is written with a name the loader recognises and with its original file
modification time (which decides "newer copy" and dates career-rank snapshots), so
`halo load matches` of the folder into an empty data dir rebuilds the same warehouse.
Rejected documents are written under `rejected/` with a `.rejected` suffix: kept, never reloaded.
"""

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loader.core.errors import NotFoundError
from loader.core.paths import player_db_path
from loader.core.resources import refusals
from loader.ingest.shapes import FILM_CHUNK_NAME

INFO_NAME = "EXPORT_INFO.txt"


@dataclass
class ExportResult:
    folder: Path
    documents: int
    rejected: int
    owner_xuid: int
    gamertag: str


def export_name(kind: str, doc_id: str, source_path: str, body: bytes) -> str:
    """A file name the loader recognises for this kind of document."""
    if kind == "match_stats":
        return f"{doc_id}.json"
    if kind == "match_skill":
        return f"skill_{doc_id}.json"
    if kind == "highlight_events":
        chunk = FILM_CHUNK_NAME.match(Path(source_path).name)
        if chunk and not body.lstrip().startswith(b"{"):
            return f"{chunk.group(1)}_{doc_id}.gzip"
        return f"{doc_id}.highlights.json"
    if kind == "match_history":
        return f"history_{doc_id[:16]}.json"
    safe = "".join(ch if ch.isalnum() else "_" for ch in doc_id)
    return f"career_rank_{safe}.json"


def _set_mtime(path: Path, mtime: dt.datetime) -> None:
    stamp = mtime.replace(tzinfo=dt.UTC).timestamp()
    os.utime(path, (stamp, stamp))


@refusals("halo export")
def export_player(gamertag: str, folder: Path, root: Path | None = None) -> ExportResult:
    """Write every raw document of the player (read-only access to the DB) into `folder`."""
    db = player_db_path(gamertag, root)
    if not db.exists():
        raise NotFoundError(f"no database for player {gamertag!r} at {db}: nothing to export")
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db), read_only=True) as con:
        xuid, stored_gamertag = con.execute("SELECT xuid, gamertag FROM raw.owner").fetchall()[0]
        documents = con.execute("SELECT kind, doc_id, source_path, source_mtime, body FROM raw.documents "
                                "ORDER BY kind, doc_id").fetchall()
        rejected = con.execute("SELECT source_path, sha256, rejected_at, body FROM raw.rejected "
                               "ORDER BY source_path, sha256").fetchall()
    for kind, doc_id, source_path, mtime, body in documents:
        path = folder / kind / export_name(kind, doc_id, source_path, body)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(body)
        _set_mtime(path, mtime)
    for source_path, sha, _rejected_at, body in rejected:
        path = folder / "rejected" / f"{Path(source_path).name}.{sha[:12]}.rejected"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(body)
    (folder / INFO_NAME).write_text(
        f"Halo warehouse export of {stored_gamertag} (xuid({xuid})), {len(documents)} documents.\n"
        f"Restore: halo load matches --player {stored_gamertag!r} --xuid {xuid} {folder}\n"
        "rejected/ holds documents that were rejected when loaded (kept, not reloaded).\n",
        encoding="utf-8")
    return ExportResult(folder, len(documents), len(rejected), xuid, stored_gamertag)
