"""`halo sync`: fetch what is new for each player through SPNKr, write it to the inbox as received, load it.

Per player:
1. load whatever an earlier, interrupted sync left in the inbox;
2. walk the match history newest first (pages of 25): every match not in the
   database is new; the walk stops at the first match already in the database,
   unless a match remembered as failed has not been reached yet (then it walks
   on until it has passed every failed match, or the history ends);
3. remember the new matches as pending (`sync_state.json`) before fetching any;
4. take what other tracked players' databases already hold of these matches (`loader.sync.shared`: stats,
   skill, film, and films or skill the API told their syncs it does not have) instead of asking the API;
5. per match, what is still needed: stats, then skill (the match's humans) and the film highlight
   chunk; a match leaves `pending` when every part is either written to the
   inbox or known to be absent (404 film/skill are recorded, never retried);
6. the gamertags of the new matches' humans not known yet (profile lookups in
   batches of PROFILE_BATCH XUIDs; a lookup that fails is a note, never retried);
7. the career rank, when matches were loaded or none was ever taken;
8. load the inbox with `halo load matches`' loader, then delete what it read.

Then, once for all players: reference assets (maps, playlists, map-mode pairs,
game variants) that their matches reference and the metadata database lacks,
the medal metadata when absent or a loaded match has a medal it does not
know, and the career reward track / season calendars when absent.
"""

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from pydantic import ValidationError
from spnkr.models.discovery_ugc import Film

from loader.core.errors import BusyError, NotFoundError, OwnerMismatchError, UsageError
from loader.core.paths import data_dir, metadata_db_path, player_db_path, player_dir
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference
from loader.sync.client import (
    AuthError,
    HaloApi,
    NotAvailableError,
    SyncOptions,
    TransientError,
    get_tokens,
    new_session,
)
from loader.sync.shared import ABSENCE_CALLS, CALLS, Absent, Taken, Unreadable, shared_parts
from loader.sync.store import (
    INBOX_NAME,
    PlayerDocuments,
    PlayerState,
    WarehouseState,
    human_players,
    inbox_files,
    known_gamertags,
    query,
    remove_loaded,
    stamp,
    utc_now,
    write_atomic,
)
from loader.warehouse.assets import loaded_assets, used_assets
from loader.warehouse.players import tracked_players

PAGE_SIZE = 25
PROFILE_BATCH = 100            # XUIDs per profile lookup (users-by-id)
MAX_SYNC_ATTEMPTS = 5          # syncs that may fail on the same match before it is given up
STATE_FLUSH_SECONDS = 2.0
USAGE_ERRORS = (UsageError, BusyError)
UGC_CALLS = {   # asset kind (loader.warehouse.assets.ASSET_COLUMNS) -> SPNKr discovery_ugc method
    "map": "get_map",
    "game_variant": "get_ugc_game_variant",
    "playlist": "get_playlist",
    "map_mode_pair": "get_map_mode_pair",
}
SINGLETON_CALLS = {  # reference kind -> SPNKr gamecms_hacs method
    "medal_metadata": "get_medal_metadata",
    "career_reward_track": "get_career_reward_track",
    "season_calendar": "get_season_calendar",
    "csr_season_calendar": "get_csr_season_calendar",
}


@dataclass
class PlayerReport:
    gamertag: str
    xuid: int | None = None
    recovered_files: int = 0        # left in the inbox by an interrupted sync, loaded first
    history_pages: int = 0
    new_matches: int = 0            # in the history and not in the database
    retried: int = 0                # pending from an earlier sync
    stats_fetched: int = 0
    matches_loaded: int = 0
    skills_loaded: int = 0
    films_loaded: int = 0
    career_rank: bool = False
    gamertags_fetched: int = 0      # players asked of the profile service
    shared: dict[str, int] = field(default_factory=dict)   # part -> taken from other tracked players' databases
    shared_absent: int = 0          # films/skill other players' syncs were told do not exist
    calls_saved: int = 0            # API requests those would have cost
    without_film: list[str] = field(default_factory=list)
    without_skill: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)      # still pending after this sync, with the error
    given_up: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    usage_error: bool = False


@dataclass
class ReferenceReport:
    recovered_files: int = 0
    fetched: list[str] = field(default_factory=list)          # "<kind>:<id>"
    unavailable: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    loaded: int = 0
    rejected: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class SyncReport:
    players: list[PlayerReport] = field(default_factory=list)
    reference: ReferenceReport = field(default_factory=ReferenceReport)
    auth_error: str | None = None
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0

    @property
    def calls_saved(self) -> int:
        return sum(p.calls_saved for p in self.players)


def match_key(value: str | UUID) -> str:
    return str(UUID(str(value)))


class PlayerSync:
    """One player's sync (see the module docstring)."""

    def __init__(self, api: HaloApi, gamertag: str, xuid: int | None, root: Path, report: PlayerReport) -> None:
        self.api, self.gamertag, self.root, self.report = api, gamertag, root, report
        self.folder = player_dir(gamertag, root)
        self.inbox = self.folder / INBOX_NAME
        self.database = player_db_path(gamertag, root)
        self.state = PlayerState.load(self.folder)
        self.xuid_arg = xuid
        self.xuid: int | None = None
        self.docs = PlayerDocuments()
        self.new_humans: set[str] = set()
        self.taken: dict[str, set[str]] = {}          # match id -> parts taken from other players' databases
        self.shared_humans: dict[str, list[str]] = {}  # humans of a match whose stats were taken
        self._flushed = time.monotonic()

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            # whatever reached the inbox is loaded, even when the sync stops (401, a bug); the state is saved
            # even when that load fails (the files stay in the inbox for the next sync)
            if self.xuid is not None:
                try:
                    self.load_inbox()
                finally:
                    self.state.last_sync = utc_now().isoformat()
                    self.state.save(self.folder)
            self.report.failed = self.state.failed()

    async def _run(self) -> None:
        self.docs = PlayerDocuments.read(self.database)
        self.xuid = await self.resolve_xuid()
        self.report.xuid = self.xuid
        self.state.xuid = self.xuid
        self.report.recovered_files = self.load_inbox()
        if self.report.recovered_files:
            self.docs = PlayerDocuments.read(self.database)
        for mid in [m for m in self.state.pending if m in self.docs.stats and not self.needed(m)]:
            del self.state.pending[mid]   # completed by the recovered inbox
        self.report.retried = len(self.state.pending)
        new = await self.walk_history()
        self.report.new_matches = len(new)
        for mid in new:
            self.state.pending.setdefault(mid, {"attempts": 0, "error": None})
        self.state.save(self.folder)      # before any fetch: an interrupted sync resumes these
        self.take_shared(list(self.state.pending))
        await self.fetch_matches(list(self.state.pending))
        await self.fetch_gamertags()
        await self.fetch_career_rank()

    async def resolve_xuid(self) -> int:
        """--xuid, else the owner recorded in the database, else the sync state, else SPNKr's profile lookup."""
        owner = self.docs.owner
        if self.xuid_arg is not None:
            if owner is not None and owner != self.xuid_arg:
                raise OwnerMismatchError(
                    f"player database {self.database} belongs to xuid({owner}), not xuid({self.xuid_arg}): check "
                    "the gamertag and --xuid; each player has their own database")
            return self.xuid_arg
        if owner is not None:
            return owner
        if self.state.xuid is not None:
            return self.state.xuid
        try:
            body = await self.api.fetch(f"profile of {self.gamertag!r}",
                                        lambda: self.api.client.profile.get_user_by_gamertag(self.gamertag))
        except NotAvailableError as exc:
            raise NotFoundError(f"gamertag {self.gamertag!r} not found by the Halo profile service ({exc}): check the "
                             "spelling or pass --xuid") from None
        from spnkr.models.profile import User
        return User(**json.loads(body)).xuid

    def load_inbox(self) -> int:
        """Load every complete file of the inbox; delete them once the load committed."""
        files = inbox_files(self.inbox)
        if not files:
            return 0
        result = load_matches(self.gamertag, files, xuid=self.xuid, root=self.root)
        remove_loaded(files)
        by_kind = result.counts.loaded_by_kind
        self.report.matches_loaded += by_kind.get("match_stats", 0)
        self.report.skills_loaded += by_kind.get("match_skill", 0)
        self.report.films_loaded += by_kind.get("highlight_events", 0)
        for rejection in result.rejections:
            self.report.rejected.append(f"{rejection.source.path.name}: {rejection.reason}")
            if rejection.kind == "match_stats" and rejection.match_id:
                mid = rejection.match_id.lower()
                self.state.unavailable[mid] = f"rejected by the loader: {rejection.reason}"
                self.state.pending.pop(mid, None)
        return len(files)

    async def walk_history(self) -> list[str]:
        waiting = set(self.state.pending)   # failed/pending matches the walk must pass before it may stop
        new: list[str] = []
        start = 0
        while True:
            body = await self.api.fetch(
                f"match history from {start}",
                lambda start=start: self.api.client.stats.get_match_history(self.xuid, start=start, count=PAGE_SIZE))
            write_atomic(self.inbox, f"history_{start}_{stamp()}.json", body)
            self.report.history_pages += 1
            try:
                results = json.loads(body).get("Results") or []
            except (ValueError, AttributeError) as exc:
                raise TransientError(f"match history from {start}: unreadable response ({exc})") from None
            for row in results:
                mid = match_key(row["MatchId"])
                if mid in self.state.pending:
                    waiting.discard(mid)
                elif mid in self.docs.stats:
                    if not waiting:
                        return new
                elif mid not in self.state.unavailable and mid not in new:
                    new.append(mid)
            if len(results) < PAGE_SIZE:
                return new
            start += len(results)

    def needed(self, mid: str) -> list[str]:
        taken = self.taken.get(mid, set())
        return [part for part in self._missing(mid) if part not in taken]

    def _missing(self, mid: str) -> list[str]:
        parts = []
        if mid not in self.docs.stats:
            parts.append("stats")
        if mid not in self.docs.skill and mid not in self.state.without_skill:
            parts.append("skill")
        if mid not in self.docs.film and mid not in self.state.without_film:
            parts.append("film")
        return parts

    def take_shared(self, match_ids: Sequence[str]) -> None:
        """Write to the inbox what other tracked players' databases hold of these matches (see
        `loader.sync.shared`); record the films/skill their syncs were told do not exist."""
        wanted = {mid: set(parts) for mid in match_ids if (parts := self.needed(mid))}
        if not wanted or self.xuid is None:
            return
        report = self.report
        for found in shared_parts(self.root, self.database, wanted, f"xuid({self.xuid})"):
            if isinstance(found, Unreadable):
                report.notes.append(f"{found.source}'s {found.path.name} could not be read for shared matches "
                                    f"({found.why}): asked the API instead")
                continue
            self.taken.setdefault(found.match_id, set()).add(found.part)
            if isinstance(found, Absent):
                self.no_part(found.match_id, found.part, found.why)
                report.shared_absent += 1
                report.calls_saved += ABSENCE_CALLS
                continue
            assert isinstance(found, Taken)
            write_atomic(self.inbox, found.name, found.body)
            if found.part == "stats":
                self.shared_humans[found.match_id] = _humans(found.body)
                self.new_humans.update(self.shared_humans[found.match_id])
            report.shared[found.part] = report.shared.get(found.part, 0) + 1
            report.calls_saved += CALLS[found.part]

    async def fetch_matches(self, match_ids: Sequence[str]) -> None:
        gate = asyncio.Semaphore(self.api.options.concurrency)

        async def one(mid: str) -> None:
            async with gate:
                await self.fetch_match(mid)
            if time.monotonic() - self._flushed > STATE_FLUSH_SECONDS:
                self.state.save(self.folder)
                self._flushed = time.monotonic()

        await run_all(one(mid) for mid in match_ids)

    async def fetch_match(self, mid: str) -> None:
        parts = self.needed(mid)
        if not parts:   # all taken from other tracked players' databases
            self.state.pending.pop(mid, None)
            return
        client = self.api.client
        if "stats" in parts:
            try:
                body = await self.api.fetch(f"match stats {mid}", lambda: client.stats.get_match_stats(mid))
            except NotAvailableError as exc:
                self.state.unavailable[mid] = str(exc)
                self.state.pending.pop(mid, None)
                self.report.unavailable.append(mid)
                return
            except TransientError as exc:
                self.record_failure(mid, {"stats": str(exc)})
                return
            write_atomic(self.inbox, f"{mid}.json", body)
            self.report.stats_fetched += 1
            humans = _humans(body)
            self.new_humans.update(humans)
        elif mid in self.shared_humans:
            humans = self.shared_humans[mid]
        else:
            humans = human_players(self.database, mid)
        jobs = {}
        if "skill" in parts:
            if humans:
                jobs["skill"] = self.fetch_skill(mid, humans)
            else:
                self.no_part(mid, "skill", "no human players")
        if "film" in parts:
            jobs["film"] = self.fetch_film(mid)
        outcomes = await asyncio.gather(*jobs.values(), return_exceptions=True)
        failures = {}
        for part, outcome in zip(jobs, outcomes):
            if isinstance(outcome, TransientError):
                failures[part] = str(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
        if failures:
            self.record_failure(mid, failures)
        else:
            self.state.pending.pop(mid, None)

    async def fetch_skill(self, mid: str, humans: list[str]) -> None:
        try:
            body = await self.api.fetch(f"match skill {mid}",
                                        lambda: self.api.client.skill.get_match_skill(mid, humans))
        except NotAvailableError as exc:
            self.no_part(mid, "skill", str(exc))
            return
        write_atomic(self.inbox, f"skill_{mid}.json", body)

    async def fetch_film(self, mid: str) -> None:
        try:
            meta = await self.api.fetch(f"film of match {mid}",
                                        lambda: self.api.client.discovery_ugc.get_film_by_match_id(mid))
            try:
                film = Film(**json.loads(meta))
            except (ValueError, ValidationError) as exc:
                raise TransientError(f"film of match {mid}: unreadable film metadata ({type(exc).__name__})") from None
            url = film.highlight_events_url   # SPNKr: the last chunk, when it is the highlight-events chunk
            if url is None:
                self.no_part(mid, "film", "the film has no highlight-events chunk")
                return
            chunk = await self.api.fetch_blob(f"film chunk of match {mid}", url)
        except NotAvailableError as exc:
            self.no_part(mid, "film", str(exc))
            return
        write_atomic(self.inbox, f"{film.custom_data.film_major_version}_{mid}.gzip", chunk)

    def no_part(self, mid: str, part: str, why: str) -> None:
        (self.state.without_film if part == "film" else self.state.without_skill)[mid] = why
        (self.report.without_film if part == "film" else self.report.without_skill).append(mid)

    def record_failure(self, mid: str, failures: dict[str, str]) -> None:
        entry = self.state.pending.setdefault(mid, {"attempts": 0, "error": None})
        entry["attempts"] = int(entry.get("attempts") or 0) + 1
        entry["error"] = "; ".join(failures.values())
        if entry["attempts"] < MAX_SYNC_ATTEMPTS:
            return
        why = f"gave up after {entry['attempts']} syncs: {entry['error']}"
        for part in failures:
            if part == "stats":
                self.state.unavailable[mid] = why
            else:
                (self.state.without_film if part == "film" else self.state.without_skill)[mid] = why
        self.state.pending.pop(mid, None)
        self.report.given_up.append(mid)

    async def fetch_gamertags(self) -> None:
        """Profile lookups (SPNKr's get_users_by_id) of the new matches' humans whose gamertag is not known."""
        known = known_gamertags(self.database) | {self.xuid}
        xuids = sorted({int(h[5:-1]) for h in self.new_humans if h[5:-1].isdigit()} - known)
        for number, start in enumerate(range(0, len(xuids), PROFILE_BATCH)):
            batch = xuids[start:start + PROFILE_BATCH]
            try:
                body = await self.api.fetch(f"gamertags of {len(batch)} players",
                                            lambda batch=batch: self.api.client.profile.get_users_by_id(batch))
            except (NotAvailableError, TransientError) as exc:
                self.report.notes.append(f"gamertags not fetched: {exc}")
                continue
            write_atomic(self.inbox, f"profile_{stamp()}_{number}.json", body)
            self.report.gamertags_fetched += len(batch)

    async def fetch_career_rank(self) -> None:
        added = self.report.stats_fetched + self.report.shared.get("stats", 0)
        due = self.state.career_rank_due or self.docs.career_ranks == 0 or added > 0
        if not due:
            return
        self.state.career_rank_due = True   # until a snapshot is written
        try:
            body = await self.api.fetch("career rank",
                                        lambda: self.api.client.economy.get_player_career_rank(self.xuid))
        except (NotAvailableError, TransientError) as exc:
            self.report.notes.append(f"career rank not fetched: {exc}")
            self.state.career_rank_due = isinstance(exc, TransientError)
            return
        write_atomic(self.inbox, f"career_rank_{stamp()}.json", body)
        self.state.career_rank_due = False
        self.report.career_rank = True


async def run_all(jobs) -> None:
    """Run coroutines together; a 401 in one stops them all and surfaces as the AuthError itself."""
    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(job)
    except BaseExceptionGroup as errors:
        auth = errors.subgroup(AuthError)
        if auth is not None:
            raise auth.exceptions[0] from None
        raise


def _humans(stats_body: bytes) -> list[str]:
    try:
        players = json.loads(stats_body).get("Players") or []
        return [p["PlayerId"] for p in players if str(p.get("PlayerId", "")).startswith("xuid(")]
    except (ValueError, AttributeError, TypeError, KeyError):
        return []   # the loader will reject the stats document and say why


class ReferenceSync:
    """Reference assets for every synced player, fetched once per run."""

    def __init__(self, api: HaloApi, root: Path, report: ReferenceReport) -> None:
        self.api, self.root, self.report = api, root, report
        self.folder = root / "warehouse"
        self.inbox = self.folder / INBOX_NAME
        self.state = WarehouseState.load(self.folder)

    async def run(self, player_databases: Sequence[Path]) -> None:
        try:
            self.report.recovered_files = self.load_inbox()
            await self.fetch_missing(player_databases)
        finally:
            self.load_inbox()
            self.state.save(self.folder)

    def load_inbox(self) -> int:
        files = inbox_files(self.inbox)
        if not files:
            return 0
        result = load_reference(files, root=self.root)
        remove_loaded(files)
        self.report.loaded += result.counts.loaded + result.counts.replaced
        self.report.rejected.extend(f"{r.source.path.name}: {r.reason}" for r in result.rejections)
        return len(files)

    async def fetch_missing(self, player_databases: Sequence[Path]) -> None:
        metadata = metadata_db_path(self.root)
        have = loaded_assets(metadata)
        known_medals = {row[0] for row in query(metadata, "SELECT medal_id FROM raw.medals")}
        # the version of the newest match: the metadata DB keeps one version per asset
        assets = used_assets(player_databases)
        medals = {row[0] for database in player_databases
                  for row in query(database, "SELECT DISTINCT medal_id FROM raw.match_player_medals")}
        jobs = []
        for (kind, asset_id), version_id in sorted(assets.items()):
            key = f"{kind}:{asset_id}"
            if (kind, asset_id) in have or key in self.state.unavailable_assets:
                continue
            method = getattr(self.api.client.discovery_ugc, UGC_CALLS[kind])
            jobs.append(self.fetch_one(key, f"{kind}_{asset_id}.json",
                                       lambda m=method, a=asset_id, v=version_id: m(a, v)))
        unknown_medals = sorted(medals - known_medals)
        for kind, method_name in SINGLETON_CALLS.items():
            due = (kind, kind) not in have
            if kind == "medal_metadata":
                # a medal the metadata does not know: fetch it again, once per new unknown medal
                due = due or bool(set(unknown_medals) - set(self.state.medals_unknown_at_last_fetch))
                if due:
                    self.state.medals_unknown_at_last_fetch = unknown_medals
            if due:
                method = getattr(self.api.client.gamecms_hacs, method_name)
                jobs.append(self.fetch_one(kind, f"{kind}_{stamp()}.json", method))
        await run_all(jobs)

    async def fetch_one(self, key: str, name: str, call) -> None:
        try:
            body = await self.api.fetch(key.replace("_", " "), call)
        except NotAvailableError as exc:
            self.state.unavailable_assets[key] = str(exc)
            self.report.unavailable.append(key)
            return
        except TransientError as exc:
            self.report.failed.append(f"{key}: {exc}")
            return
        write_atomic(self.inbox, name, body)
        self.report.fetched.append(key)


async def sync(gamertags: Sequence[str] | None, xuid: int | None = None, root: Path | None = None,
               options: SyncOptions | None = None) -> SyncReport:
    """Sync the named players (or every tracked player when `gamertags` is None), then their reference data."""
    started = time.perf_counter()
    root = root or data_dir()
    options = options or SyncOptions.from_env()
    report = SyncReport()
    if gamertags is None:
        players = [(p.gamertag, None) for p in tracked_players(root)]
    else:
        players = [(g, xuid) for g in gamertags]
    async with new_session() as session:
        try:
            api = HaloApi(session, await get_tokens(session), options)
        except AuthError as exc:
            report.auth_error = str(exc)
            return report
        try:
            synced: list[Path] = []
            for gamertag, player_xuid in players:
                player_report = PlayerReport(gamertag)
                report.players.append(player_report)
                try:
                    await PlayerSync(api, gamertag, player_xuid, root, player_report).run()
                    synced.append(player_db_path(gamertag, root))
                except (TransientError, NotAvailableError) as exc:
                    player_report.error = str(exc)
                except USAGE_ERRORS as exc:
                    player_report.error, player_report.usage_error = str(exc), True
            if synced:
                try:
                    await ReferenceSync(api, root, report.reference).run(synced)
                except USAGE_ERRORS as exc:
                    report.reference.error = str(exc)
        except AuthError as exc:
            report.auth_error = str(exc)
        finally:
            report.requests, report.retries = api.counters.requests, api.counters.retries
    report.seconds = time.perf_counter() - started
    return report
