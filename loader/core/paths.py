"""Where data lives: `HALO_DATA_DIR` and the player directories inside it."""

import hashlib
import os
import re
import shutil
import unicodedata
from pathlib import Path

from loader.core.errors import UnsafeNameError
from loader.core.settings import settings

PLAYER_DB_NAME = "stats.duckdb"
METADATA_DB_NAME = "metadata.duckdb"
WAREHOUSE_DB_NAME = "warehouse.duckdb"  # every tracked player in one database (the dbt `warehouse` target)
# The folders (in /dev/shm or the temporary folder) where a load's parsing workers leave their result files:
# `halo-load-<pid>-<random>` (loader.ingest.load_matches.result_dir).
RESULT_DIR_PREFIX = "halo-load-"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_MAX_SLUG = 48


def data_dir() -> Path:
    """The data root: `HALO_DATA_DIR`, default `./data`, made absolute."""
    return settings.data_dir


def player_dir_name(gamertag: str) -> str:
    """A filesystem-safe, collision-free directory name for a gamertag.

    Gamertags are case-insensitive, so the name is derived from the casefolded,
    NFKC-normalised gamertag: a readable ASCII slug plus 10 hex digits of its
    SHA-256, e.g. `spartan_001-6f1c...`. The result only ever contains
    `[a-z0-9_-]`, so it can neither climb (`..`) nor nest (`/`). A gamertag with no letter or digit
    (`-`, `_`) gets the slug `player` (`player-3973e022e9`), never a name that starts with `-`.
    """
    try:
        gamertag.encode("utf-8")
    except UnicodeEncodeError as exc:  # bytes that are not UTF-8 (the command line passes them as surrogates)
        char = gamertag[exc.start]
        what = (f"byte 0x{ord(char) - 0xDC00:02x}" if "\udc80" <= char <= "\udcff"
                else f"a lone surrogate U+{ord(char):04X}")
        raise UnsafeNameError(f"gamertag {gamertag!r} is not UTF-8 text ({what} at position {exc.start}): give the "
                              "gamertag as UTF-8 text, as the Halo API spells it") from None
    key = unicodedata.normalize("NFKC", gamertag).strip().casefold()
    if not key or not any(ch.isprintable() and not ch.isspace() for ch in key):
        raise UnsafeNameError(f"gamertag {gamertag!r} is empty: give the player's gamertag")
    slug = _UNSAFE.sub("_", key).lstrip("_-").rstrip("_")[:_MAX_SLUG]
    if not any(ch.isalnum() for ch in slug):
        slug = "player"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}"


def player_dir(gamertag: str, root: Path | None = None) -> Path:
    """`HALO_DATA_DIR/players/<player-dir>`, checked to lie inside the data root."""
    base = (root or data_dir()) / "players"
    path = (base / player_dir_name(gamertag)).resolve()
    if path.parent != base.resolve():
        raise UnsafeNameError(f"gamertag {gamertag!r} maps outside {base}")
    return path


def player_db_path(gamertag: str, root: Path | None = None) -> Path:
    return player_dir(gamertag, root) / PLAYER_DB_NAME


def metadata_db_path(root: Path | None = None) -> Path:
    return (root or data_dir()) / "warehouse" / METADATA_DB_NAME


def warehouse_db_path(root: Path | None = None) -> Path:
    return (root or data_dir()) / "warehouse" / WAREHOUSE_DB_NAME


def remove_stale_result_dirs(base: str, prefix: str = RESULT_DIR_PREFIX) -> None:
    """Folders `<prefix><pid>-*` in `base` whose process is gone (killed before it could remove them): result
    folders of loads (they hold memory), staging folders of exports."""
    if os.name != "posix":  # os.kill(pid, 0) is a probe only on POSIX (on Windows it ends the process)
        return
    for entry in os.scandir(base):
        pid = entry.name[len(prefix):].split("-", 1)[0]
        if not (entry.name.startswith(prefix) and pid.isdigit() and entry.is_dir(follow_symlinks=False)):
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass  # alive (or not ours to signal): leave it
