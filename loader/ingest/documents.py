"""Documents as read from disk: `Source` (path, bytes, mtime), and what reading makes of it, `Accepted` or
`Rejected`; finding the files below folders; the checks and messages every reader shares."""

import codecs
import datetime as dt
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from loader.core.errors import NotFoundError, UsageError
from loader.ingest.shapes import UUID_IN_NAME

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
    def json_bytes(self) -> bytes:
        """The bytes to parse: `data` without a leading UTF-8 byte-order mark (which JSON does not allow, and
        editors on Windows write). `data`, stored and hashed, keeps it."""
        return self.data[len(codecs.BOM_UTF8):] if self.data.startswith(codecs.BOM_UTF8) else self.data

    @property
    def path_text(self) -> str:
        """The path as valid UTF-8 text (for tables and messages): bytes of a non-UTF-8 file name
        become `\\xNN` escapes instead of failing the whole batch."""
        return _path_text(self.path)


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


@dataclass(frozen=True)
class Skipped:
    """Something below a folder that was not read, and why: a FIFO, socket or device named like a document, a
    dangling or folder link, a folder that cannot be listed. No document, no bytes: reported, not stored."""

    path: Path
    reason: str

    @property
    def path_text(self) -> str:
        return _path_text(self.path)


def iter_sources(paths: Iterable[Path], skipped: list[Skipped] | None = None) -> Iterator[Path]:
    """Files named directly, and `*.json` / `*.gzip` files found below directories, sorted. What is found below a
    folder and not read (a FIFO, a dangling link, a folder that cannot be listed) goes to `skipped` with its reason.
    A named path that is missing or not a file or folder (a FIFO blocks whoever reads it) is a usage error."""
    for path in paths:
        where = _path_text(path)
        try:
            mode = os.stat(path).st_mode  # follows a symlink, like Path.is_dir
        except ValueError as exc:  # a NUL in the name
            raise NotFoundError(f"{where}: not a valid path ({exc})") from None
        except (FileNotFoundError, NotADirectoryError):
            if os.path.islink(path):
                target = _path_text(os.readlink(path))
                raise NotFoundError(f"{where}: a symbolic link to {target}, which does not exist: name the file or "
                                    "folder itself") from None
            raise NotFoundError(f"{where}: no such file or directory") from None
        except OSError as exc:
            raise NotFoundError(f"{where}: cannot be reached ({_os_reason(exc)}): check the path and its "
                                "folders' permissions") from None
        if stat.S_ISDIR(mode):
            yield from readable_files_below(path, skipped)
        elif stat.S_ISREG(mode):
            yield path
        else:
            raise UsageError(f"{where}: is {_special_kind(mode)}, not a file or folder: halo load reads files "
                             "(a FIFO would block it); save the data to a .json file and load that")


def _path_text(path: str | Path) -> str:
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _os_reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _special_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return kind
    return "not a regular file"


def _unlisted_folder(path: str, exc: OSError) -> Skipped:
    if isinstance(exc, FileNotFoundError):
        return Skipped(Path(path), "folder vanished while it was listed: the documents in it were not loaded; "
                                   "load it again from where it is now")
    return Skipped(Path(path), f"folder cannot be read ({_os_reason(exc)}): the documents in it were not loaded; "
                               "give the loading user read access to it (chmod a+rx) and load it again")


def _not_followed(entry: os.DirEntry, document_name: bool) -> Skipped | None:
    """Why a symlink below a folder is not read (None: it leads to a file to read, or to nothing of interest)."""
    try:
        target = _path_text(os.readlink(entry.path))
    except OSError:
        target = "?"
    try:
        mode = entry.stat().st_mode  # follows the link
    except FileNotFoundError:
        return Skipped(Path(entry.path), f"dangling symbolic link to {target}: not read; fix or remove the link")
    except PermissionError:
        return None  # cannot tell what it leads to: a document name is read, and the reader says why it cannot be
    except OSError as exc:
        return Skipped(Path(entry.path), f"symbolic link to {target} cannot be followed ({_os_reason(exc)}): "
                                         "not read; fix or remove the link")
    if stat.S_ISDIR(mode):
        return Skipped(Path(entry.path), f"symbolic link to the folder {target}: not followed (links may loop); "
                                         "name the folder itself to load it")
    if document_name and not stat.S_ISREG(mode):
        return Skipped(Path(entry.path), f"symbolic link to {_special_kind(mode)} ({target}): not read (it "
                                         "would block); save the data to a .json file")
    return None


def readable_files_below(folder: Path, skipped: list[Skipped] | None = None) -> list[Path]:
    """The readable files below `folder` (not hidden, suffix in READABLE_SUFFIXES) in the order of
    `sorted(folder.rglob("*"))` (path components compared in turn; symlinked folders not entered), found with
    os.scandir: a tenth of rglob's time on 10,000 files (0.22 -> 0.02 s). What is not read goes to `skipped` with
    its reason: folders that cannot be listed, FIFOs, sockets and devices named like documents, non-hidden
    dangling links and links to folders. Never opens anything but folders (opening a FIFO blocks)."""
    found: list[tuple[tuple[str, ...], str]] = []
    passed: list[tuple[tuple[str, ...], Skipped]] = []
    pending: list[tuple[str, tuple[str, ...]]] = [(str(folder), ())]
    while pending:
        directory, parts = pending.pop()
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except OSError as exc:
            passed.append((parts, _unlisted_folder(directory, exc)))
            continue
        for entry in listed:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                pending.append((entry.path, (*parts, entry.name)))
                continue
            if entry.name.startswith("."):
                continue
            document_name = os.path.splitext(entry.name)[1].lower() in READABLE_SUFFIXES
            try:
                regular = entry.is_file(follow_symlinks=False)
                link = not regular and entry.is_symlink()
                mode = 0 if regular or link else entry.stat(follow_symlinks=False).st_mode
            except OSError:  # gone since the listing: nothing to read
                continue
            if link:
                why = _not_followed(entry, document_name)
                if why is not None:
                    passed.append(((*parts, entry.name), why))
                elif document_name:  # to a regular file, or one the loading user may not reach (the reader says)
                    found.append(((*parts, entry.name), entry.path))
            elif regular:
                if document_name:
                    found.append(((*parts, entry.name), entry.path))
            elif document_name:
                passed.append(((*parts, entry.name), Skipped(Path(entry.path), (
                    f"{_special_kind(mode)}, not a regular file: not read (reading it would block); save the data "
                    "to a .json file and load that"))))
    found.sort(key=lambda item: item[0])
    if skipped is not None:
        skipped.extend(why for _, why in sorted(passed, key=lambda item: item[0]))
    return [Path(path) for _, path in found]


def read_source(path: Path) -> Source | Rejected:
    """The file's bytes and modification time, or a rejection saying why it cannot be read (permission denied,
    vanished since it was listed, no longer a regular file): stored with empty bytes, the rest of the load goes
    on. Opened without blocking and checked to be a regular file before reading (a FIFO is never read)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        return unreadable(path, exc)
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return unreadable(path, None, f"is now {_special_kind(info.st_mode)}, not a regular file")
            data = handle.read()
    except OSError as exc:
        return unreadable(path, exc)
    return Source(path=path, data=data, mtime=dt.datetime.fromtimestamp(info.st_mtime, tz=dt.UTC))


def unreadable(path: Path, exc: OSError | None, what: str | None = None) -> Rejected:
    """A file that should have been a document and could not be read: rejected with empty bytes and the reason."""
    try:
        mtime = dt.datetime.fromtimestamp(os.lstat(path).st_mtime, tz=dt.UTC)
    except OSError:
        mtime = dt.datetime.now(dt.UTC)
    if isinstance(exc, FileNotFoundError):
        reason = ("vanished before it was read (deleted or moved while the load ran; no bytes stored): load it "
                  "again from where it is now")
    elif isinstance(exc, PermissionError):
        reason = ("cannot be read: permission denied (no bytes stored): give the loading user read access to "
                  "it (chmod a+r) and load it again")
    else:
        reason = (f"cannot be read: {what or _os_reason(exc)} (no bytes stored): check the file and load it "
                  "again")
    in_name = UUID_IN_NAME.search(path.name)
    return Rejected(Source(path, b"", mtime), reason, None, in_name.group(0).lower() if in_name else None)


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
    if not source.json_bytes.strip():
        return Rejected(source, f"empty file: expected {what}; re-download it")
    try:
        source.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected(source, f"not UTF-8 text (byte {exc.start}): expected {what}; re-download it")
    return None
