"""When the machine refuses a write (a full disk, a read-only folder, no permission): one `ResourceError` line.

`refusals` decorates a stage (a load, a build, an export): an `OSError` or a DuckDB error caused by one of the
refusals below, anywhere in its chain, becomes a `ResourceError` naming the file and what to do. The stages write in
one transaction (loads) or to temporary names (builds), so the data is as it was before the command.
"""

import contextlib
import errno
import os
import re
from collections.abc import Iterator

from loader.core.errors import ResourceError

# errno -> (what happened, what to do)
REFUSALS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("no space left on the device (disk full)", "free some space"),
    errno.EDQUOT: ("disk quota exceeded", "free some space or raise the quota"),
    errno.EROFS: ("the folder is on a read-only file system", "use a writable folder (HALO_DATA_DIR)"),
    errno.EACCES: ("permission denied", "give this user write access to the folder (or use another HALO_DATA_DIR)"),
    errno.EPERM: ("operation not permitted", "give this user write access to the folder (or use another "
                                              "HALO_DATA_DIR)"),
}
_QUOTED_PATH = re.compile(r'"(/[^"]+)"')


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]


def refusal(exc: BaseException) -> tuple[int, str | None] | None:
    """(errno, file) when `exc` or an exception it came from is one of REFUSALS, else None.

    DuckDB reports them as text (`IO Error: Could not write file "…": No space left on device`, and a
    `FatalException` for every later statement of the connection), so its messages are matched by the system's
    wording of the errno."""
    for link in _chain(exc):
        if isinstance(link, OSError) and link.errno in REFUSALS:
            return link.errno, link.filename if isinstance(link.filename, str) else None
        text = str(link)
        for code in REFUSALS:
            if os.strerror(code) in text:
                found = _QUOTED_PATH.search(text)
                return code, found.group(1) if found else None
    return None


@contextlib.contextmanager
def refusals(what: str) -> Iterator[None]:
    """Turn a refused write inside the block into one `ResourceError` line (usable as a decorator)."""
    try:
        yield
    except ResourceError:
        raise
    except Exception as exc:
        found = refusal(exc)
        if found is None:
            raise
        code, path = found
        reason, todo = REFUSALS[code]
        where = f" at {path}" if path else ""
        raise ResourceError(f"{what} stopped: {reason}{where}. Nothing was changed: the data is as it was before "
                            f"this command. {todo[0].upper()}{todo[1:]}, then run it again.") from None


def write_text_replacing(path: os.PathLike, text: str) -> None:
    """Write a small state file under a temporary name, then rename it: a full disk never leaves half of it."""
    path = os.fspath(path)
    partial = f"{path}.{os.getpid()}.tmp"
    try:
        with open(partial, "w", encoding="utf8") as file:
            file.write(text)
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
