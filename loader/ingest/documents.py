"""Documents as read from disk: `Source` (path, bytes, mtime), and what reading makes of it, `Accepted` or
`Rejected`; finding the files below folders; the checks and messages every reader shares."""

import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from loader.core.errors import NotFoundError

READABLE_SUFFIXES = {".json", ".gzip"}


@dataclass(frozen=True)
class Source:
    """One file as read: its path, bytes and modification time (UTC)."""

    path: Path
    data: bytes
    mtime: dt.datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def path_text(self) -> str:
        """The path as valid UTF-8 text (for tables and messages): bytes of a non-UTF-8 file name
        become `\\xNN` escapes instead of failing the whole batch."""
        return str(self.path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Accepted:
    """A validated document: `doc_id` is its natural id within its kind; `model` holds its validated values (for
    match-side kinds plain dicts keyed by the models' field names, see `FAST_ADAPTERS`)."""

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


def iter_sources(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named directly, and `*.json` / `*.gzip` files found below directories, sorted."""
    for path in paths:
        if path.is_dir():
            yield from readable_files_below(path)
        elif path.is_file():
            yield path
        else:
            raise NotFoundError(f"{path}: no such file or directory")


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()  # follows a symlink to a file, like Path.is_file
    except OSError:
        return False


def readable_files_below(folder: Path) -> list[Path]:
    """The readable files below `folder` (not hidden, suffix in READABLE_SUFFIXES) in the order of
    `sorted(folder.rglob("*"))` (path components compared in turn; symlinked folders not entered, unreadable ones
    skipped), found with os.scandir: a tenth of rglob's time on 10,000 files (0.22 -> 0.02 s)."""
    found: list[tuple[tuple[str, ...], str]] = []
    pending: list[tuple[str, tuple[str, ...]]] = [(str(folder), ())]
    while pending:
        directory, parts = pending.pop()
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except PermissionError:
            continue
        for entry in listed:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                pending.append((entry.path, (*parts, entry.name)))
            elif (not entry.name.startswith(".") and os.path.splitext(entry.name)[1].lower() in READABLE_SUFFIXES
                  and _is_file(entry)):
                found.append(((*parts, entry.name), entry.path))
    found.sort(key=lambda item: item[0])
    return [Path(path) for _, path in found]


def read_source(path: Path) -> Source:
    stat = path.stat()
    mtime = dt.datetime.fromtimestamp(stat.st_mtime, tz=dt.UTC)
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


def reject_if_not_text(source: Source, what: str = "a JSON document") -> Rejected | None:
    """An empty file or bytes that are not UTF-8 cannot be any JSON document: say so before validating."""
    if not source.data.strip():
        return Rejected(source, f"empty file: expected {what}; re-download it")
    try:
        source.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected(source, f"not UTF-8 text (byte {exc.start}): expected {what}; re-download it")
    return None
