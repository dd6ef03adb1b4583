"""`halo export`: a player's bronze layer (every stored original document) to a portable folder.

Each document is written with a name the loader recognises and with its original file
modification time (which decides "newer copy" and dates career-rank snapshots), so
`halo load matches` of the folder into an empty data dir rebuilds the same warehouse.
Rejected documents are written under `rejected/` with a `.rejected` suffix: kept, never reloaded. Names too long
for a file system are cut (`fit_name`). The export is written beside its destination and renamed at the end.
"""

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loader.core.errors import ExportFailedError, NotFoundError, UsageError
from loader.core.paths import player_db_path, remove_stale_result_dirs
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


# File names are cut to this many bytes (file systems allow 255; a rejected file's name gets a suffix), the cut
# marked by 12 hex digits of the full name's SHA-256 so that two long names never meet.
MAX_NAME_BYTES = 200
# The folder an export is written into before it is renamed to its destination (a sibling of it); one left by a
# killed export (its process gone) is removed by the next export into the same parent folder.
STAGING_PREFIX = ".halo-export-"


def fit_name(stem: str, suffix: str = "") -> str:
    """`stem + suffix`, or when that is longer than MAX_NAME_BYTES, the stem's beginning, `~`, 12 hex digits of the
    stem's SHA-256, and the suffix."""
    if len((stem + suffix).encode("utf-8", "surrogateescape")) <= MAX_NAME_BYTES:
        return stem + suffix
    digest = hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    room = MAX_NAME_BYTES - len(suffix.encode("utf-8", "surrogateescape")) - len(digest) - 1
    cut = stem.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return f"{cut}~{digest}{suffix}"


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
    if kind == "profile_users":
        return f"profile_{doc_id[:16]}.json"
    safe = "".join(ch if ch.isalnum() else "_" for ch in doc_id)
    if kind == "playlist_csr":  # the playlist id is read from the name: kept whole
        playlist, _, observed = doc_id.partition("@")
        return fit_name(f"csr_{playlist}_" + "".join(ch if ch.isalnum() else "_" for ch in observed), ".json")
    if kind == "service_record":
        return fit_name(safe, ".json")
    return fit_name(f"career_rank_{safe}", ".json")


def rejected_name(source_path: str, sha256: str) -> str:
    """`<file name>.<12 hex digits of its SHA-256>.rejected`, the file name cut to fit (see `fit_name`)."""
    return fit_name(Path(source_path).name or "rejected", f".{sha256[:12]}.rejected")


def _set_mtime(path: Path, mtime: dt.datetime) -> None:
    stamp = mtime.replace(tzinfo=dt.UTC).timestamp()
    os.utime(path, (stamp, stamp))


def _check_destination(folder: Path) -> None:
    """An export replaces an earlier export or fills an empty folder; it never mixes into other files."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise UsageError(f"{folder} exists and is not a folder: choose a folder to export into")
    if folder.is_dir() and not (folder / INFO_NAME).is_file() and any(folder.iterdir()):
        raise UsageError(f"{folder} is not empty and holds no earlier export ({INFO_NAME}): choose an empty or "
                         "new folder")


def _put_in_place(staging: Path, folder: Path) -> None:
    """Rename the finished export to `folder`; an earlier export or empty folder there is replaced."""
    if not folder.exists():
        staging.rename(folder)
        return
    old = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=folder.parent))
    folder.rename(old / "previous")
    try:
        staging.rename(folder)
    except BaseException:
        (old / "previous").rename(folder)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


@refusals("halo export")
def export_player(gamertag: str, folder: Path, root: Path | None = None) -> ExportResult:
    """Write every raw document of the player (read-only access to the DB) into `folder`: written into a
    staging folder beside it and renamed at the end, so a failed export leaves no partial folder (and an earlier
    export there stays as it was)."""
    db = player_db_path(gamertag, root)
    if not db.exists():
        raise NotFoundError(f"no database for player {gamertag!r} at {db}: nothing to export")
    folder = folder.absolute()
    _check_destination(folder)
    with duckdb.connect(str(db), read_only=True) as con:
        xuid, stored_gamertag = con.execute("SELECT xuid, gamertag FROM raw.owner").fetchall()[0]
        documents = con.execute("SELECT kind, doc_id, source_path, source_mtime, body FROM raw.documents "
                                "ORDER BY kind, doc_id").fetchall()
        rejected = con.execute("SELECT source_path, sha256, rejected_at, body FROM raw.rejected "
                               "ORDER BY source_path, sha256").fetchall()
    staging = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_result_dirs(str(folder.parent), STAGING_PREFIX)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=folder.parent))
        for kind, doc_id, source_path, mtime, body in documents:
            path = staging / kind / export_name(kind, doc_id, source_path, body)
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(body)
            _set_mtime(path, mtime)
        for source_path, sha, _rejected_at, body in rejected:
            path = staging / "rejected" / rejected_name(source_path, sha)
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(body)
        (staging / INFO_NAME).write_text(
            f"Halo warehouse export of {stored_gamertag} (xuid({xuid})), {len(documents)} documents.\n"
            f"Restore: halo load matches --player {stored_gamertag!r} --xuid {xuid} {folder}\n"
            "rejected/ holds documents that were rejected when loaded (kept, not reloaded).\n",
            encoding="utf-8")
        _put_in_place(staging, folder)
    except OSError as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise ExportFailedError(f"export of {stored_gamertag!r} to {folder} failed: {exc}; nothing was written "
                                "(an earlier export there is unchanged): free space or choose another folder"
                                ) from None
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(folder, len(documents), len(rejected), xuid, stored_gamertag)
