"""`halo load matches`: read, validate and write a player's match-side documents."""

import contextlib
import datetime as dt
import gc
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import duckdb

from loader import raw_tables
from loader.duckdb_files import connect_for_writing, fetch_one
from loader.flatten import frames_for
from loader.paths import player_db_path, player_dir_name
from loader.raw_writer import LoadResult, transaction, write_batch
from loader.readers import Accepted, Rejected, iter_sources, read_document, read_source

BATCH_SIZE = 2000


class OwnerMismatchError(RuntimeError):
    """The player database belongs to another XUID than the one given."""


class OwnerUnknownError(RuntimeError):
    """First load of a player without `--xuid`."""


def parse_xuid(text: str) -> int:
    """`2533274900000017` or `xuid(2533274900000017)` -> 2533274900000017."""
    raw = text.strip()
    if raw.startswith("xuid(") and raw.endswith(")"):
        raw = raw[5:-1]
    if not raw.isdigit():
        raise ValueError(f"--xuid {text!r} is not a XUID: give digits, e.g. 2533274900000017 or xuid(2533274900000017)")
    return int(raw)


def open_player_db(gamertag: str, xuid: int | None, root: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the player's DB for writing, create the raw schema, and check or record the owner XUID."""
    path = player_db_path(gamertag, root)
    con = connect_for_writing(path, f"player database of {gamertag!r}")
    try:
        for statement in raw_tables.create_statements():
            con.execute(statement)
        row = fetch_one(con, "SELECT xuid, gamertag FROM raw.owner")
        if row is None:
            if xuid is None:
                raise OwnerUnknownError(
                    f"first load of player {gamertag!r}: pass --xuid with the player's XUID so that only "
                    "their matches are accepted")
            con.execute("INSERT INTO raw.owner VALUES (?, ?, ?, ?)",
                        [xuid, gamertag, player_dir_name(gamertag), dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)])
        elif xuid is not None and row[0] != xuid:
            raise OwnerMismatchError(
                f"player database {path} belongs to xuid({row[0]}) ({row[1]!r}), not xuid({xuid}): "
                "check the gamertag and --xuid; each player has their own database")
    except BaseException:
        con.close()
        raise
    return con


def owner_xuid(con: duckdb.DuckDBPyConnection) -> int:
    return fetch_one(con, "SELECT xuid FROM raw.owner")[0]


def check_owner(doc: Accepted, xuid: int) -> Accepted | Rejected:
    """A match-stats document must include the owner: it belongs in the player's own history."""
    if doc.kind == "match_stats" and not any(p.player_id == f"xuid({xuid})" for p in doc.model.players):
        return Rejected(doc.source, f"owner xuid({xuid}) is not a player of match {doc.doc_id}: this match "
                                    "belongs to another player's history; load it into that player's database",
                        doc.kind, doc.doc_id)
    return doc


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic GC during a load: the thousands of live (acyclic) validated models would
    otherwise be traversed again and again, which measured as more than half of the load time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_matches(
    gamertag: str,
    paths: Sequence[Path],
    xuid: int | None = None,
    root: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """Load files/directories of match-side documents into the player's DB, in batches of BATCH_SIZE.

    The whole load is one transaction; bad documents are recorded in raw.rejected and never stop the batch.
    """
    started = time.perf_counter()
    files = list(iter_sources(paths))  # raises UsageError before anything is opened
    con = open_player_db(gamertag, xuid, root)
    result = LoadResult(database=player_db_path(gamertag, root))
    try:
        owner = owner_xuid(con)
        with transaction(con), paused_gc():
            _load_batches(con, files, owner, result, progress)
    finally:
        con.close()
    result.seconds = time.perf_counter() - started
    return result


def _load_batches(con: duckdb.DuckDBPyConnection, files: Sequence[Path], owner: int, result: LoadResult,
                  progress: Callable[[int, int], None] | None) -> None:
    for start in range(0, len(files), BATCH_SIZE):
        batch = files[start:start + BATCH_SIZE]
        accepted, rejected = read_batch(batch, owner)
        counts = write_batch(con, accepted, rejected, kind_tables=raw_tables.KIND_TABLES,
                             build_frames=frames_for, schemas=raw_tables.SCHEMAS,
                             primary_keys=raw_tables.PRIMARY_KEYS)
        result.read += len(batch)
        result.counts.add(counts)
        result.rejections.extend(rejected)
        if progress:
            progress(result.read, len(files))


def read_batch(files: Iterable[Path], owner: int) -> tuple[list[Accepted], list[Rejected]]:
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    for path in files:
        outcome = read_document(read_source(path))
        if isinstance(outcome, Accepted):
            outcome = check_owner(outcome, owner)
        (accepted if isinstance(outcome, Accepted) else rejected).append(outcome)
    return accepted, rejected
