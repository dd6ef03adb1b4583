"""Every `HALO_*` environment variable `halo` reads, its default and its check, in one place.

`settings` is the one settings object. Each attribute reads its variable when it is asked for (never at import
time), so a test or a long-lived process that changes the environment sees the change. A value that cannot be
used raises `SettingError` naming the variable, the value and what to give instead. `SETTINGS` lists them all
(the README's table is this list).
"""

import os
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from loader.core.errors import SettingError


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, its default (as text) and what it does."""

    name: str
    default: str
    meaning: str


SETTINGS = (
    Setting("HALO_DATA_DIR", "./data", "the data root: player databases, metadata, lake, warehouse"),
    Setting("HALO_LOCK_WAIT_SECONDS", "10", "how long a writer waits for a DuckDB file another process holds"),
    Setting("HALO_LOAD_WORKERS", "one per core, at most 4", "parsing processes of a load of 400 files or more"),
    Setting("HALO_LOAD_MEMORY_LIMIT", "384MB", "DuckDB's memory_limit during a load (a size: 384MB, 2GB, 1.5GiB)"),
    Setting("HALO_BUILD_WORKERS", "2 (1 below 2 players)", "build processes for several players (1 = in `halo`)"),
    Setting("HALO_BUILD_FULL", "0", "1: every `halo build` is a full `dbt build --full-refresh`"),
    Setting("HALO_DBT_THREADS", "halo build: 2 (full), 4 (updates); dbt: 4", "dbt threads"),
    Setting("HALO_REPORT_TZ", "UTC", "the time zone of `halo report`'s hours of day and days of week (IANA name)"),
    Setting("HALO_REQUESTS_PER_SECOND", "5", "SPNKr's per-service rate limit in `halo sync`"),
    Setting("HALO_SPARTAN_TOKEN", "(none)", "Halo API spartan token (with HALO_CLEARANCE_TOKEN); never stored"),
    Setting("HALO_CLEARANCE_TOKEN", "(none)", "Halo API clearance token; never stored"),
    Setting("HALO_AZURE_CLIENT_ID", "(none)", "Azure app sign-in (with the secret and refresh token)"),
    Setting("HALO_AZURE_CLIENT_SECRET", "(none)", "Azure app secret; never stored"),
    Setting("HALO_AZURE_REFRESH_TOKEN", "(none)", "Azure app refresh token; never stored"),
    Setting("HALO_AZURE_REDIRECT_URI", "https://localhost", "Azure app redirect URI"),
)
# Set by `halo` for each dbt run and read by profiles.yml (set them yourself for `dbt` from the shell).
PROFILE_VARIABLES = (
    Setting("HALO_PLAYER_DB", "(required by the player target)", "the player database a `dbt` run builds"),
    Setting("HALO_ARCHIVE_DIR", "<player dir>/archive", "root of the player's season archives"),
)
_SIZE = re.compile(r"^\s*(\d{1,12}(?:\.\d{1,6})?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def is_time_zone(name: str) -> bool:
    """An IANA time zone name the system knows (Europe/Paris, UTC)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _whole_number(name: str, minimum: int, example: str) -> int | None:
    raw = _raw(name)
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < minimum:
        raise SettingError(f"{name}={raw!r}: give a whole number of at least {minimum} (e.g. {example}), "
                           "or unset it for the default")
    return int(raw)


class Settings:
    """The settings, each read from the environment when asked for (see the module's docstring)."""

    @property
    def data_dir(self) -> Path:
        return Path(os.environ.get("HALO_DATA_DIR") or "data").expanduser().resolve()

    @property
    def lock_wait_seconds(self) -> float:
        raw = _raw("HALO_LOCK_WAIT_SECONDS")
        if not raw:
            return 10.0
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 <= value < 86400:
            raise SettingError(f"HALO_LOCK_WAIT_SECONDS={raw!r}: give seconds to wait, e.g. 10 or 0.5")
        return value

    @property
    def load_workers(self) -> int | None:
        """None: the loader decides (one per core, at most 4)."""
        return _whole_number("HALO_LOAD_WORKERS", 1, "2")

    @property
    def load_memory_limit(self) -> str:
        """A DuckDB size, checked against a strict pattern: the value reaches a SET statement."""
        raw = _raw("HALO_LOAD_MEMORY_LIMIT") or "384MB"
        size = _SIZE.match(raw)
        if size is None:
            raise SettingError(f"HALO_LOAD_MEMORY_LIMIT={raw!r}: give a size such as 384MB, 2GB or 1.5GiB")
        return f"{size.group(1)}{size.group(2)}"

    @property
    def build_workers(self) -> int | None:
        """None: `halo build` decides (see loader.warehouse.build.build_workers)."""
        return _whole_number("HALO_BUILD_WORKERS", 1, "1 or 2")

    @property
    def build_full(self) -> bool:
        return _raw("HALO_BUILD_FULL") not in ("", "0")

    @property
    def dbt_threads(self) -> int | None:
        """None: 2 threads for full builds, 4 for updates."""
        return _whole_number("HALO_DBT_THREADS", 1, "2")

    @property
    def report_tz(self) -> str:
        """The IANA time zone `halo report` buckets hours of day and days of week in (default UTC)."""
        raw = _raw("HALO_REPORT_TZ") or "UTC"
        if not is_time_zone(raw):
            raise SettingError(f"HALO_REPORT_TZ={raw!r}: give an IANA time zone such as Europe/Paris or UTC, "
                               "or unset it for UTC")
        return raw

    @property
    def requests_per_second(self) -> int:
        return _whole_number("HALO_REQUESTS_PER_SECOND", 1, "5") or 5

    def secret(self, name: str) -> str:
        """One of the credential variables (HALO_SPARTAN_TOKEN, ...), stripped; empty when unset."""
        if name not in {s.name for s in SETTINGS}:
            raise KeyError(name)
        return _raw(name)


settings = Settings()
