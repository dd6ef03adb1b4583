"""`halo load matches`: read, validate and write a player's match-side documents."""

import contextlib
import datetime as dt
import gc
import multiprocessing
import multiprocessing.pool
import os
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb

from loader.core.duckdb_files import connect_for_writing, fetch_one
from loader.core.errors import OwnerMismatchError, OwnerUnknownError, UsageError
from loader.core.paths import RESULT_DIR_PREFIX, player_db_path, player_dir_name, remove_stale_result_dirs
from loader.core.resources import refusals
from loader.core.settings import settings
from loader.ingest import raw_tables
from loader.ingest.documents import Accepted, Rejected, Skipped, iter_sources, read_source
from loader.ingest.film_checks import FILM_KIND, reject_foreign_films
from loader.ingest.flatten import flatten_tables
from loader.ingest.readers import read_document
from loader.ingest.writer import DocKey, LoadResult, ParsedBatch, transaction, write_parsed_batch

# A batch is at most BATCH_SIZE files and at most BATCH_BYTES of input (a batch's Arrow tables, bodies included,
# are about twice its input): 2,000 8-player documents, about 1,000 24-player ones.
BATCH_SIZE = 2000
BATCH_BYTES = 48 * 1024 * 1024
# Files per task of the parsing workers (a batch is split into tasks of at most CHUNK_SIZE files).
CHUNK_SIZE = 100
# Loads of fewer files are parsed in this process (a worker pool costs more than it saves).
PARALLEL_MIN_FILES = 400
# DuckDB's buffer memory during a load (HALO_LOAD_MEMORY_LIMIT): what the load transaction holds beyond it (the
# documents' bodies, fewer rows than a row group, are not written out before COMMIT) goes to DuckDB's temporary
# directory. The rest of the 1 GiB budget is the batch being written, the look-ahead and the parsing workers.
# (10,000 x 24-player documents: 384MB peaks near 0.85 GiB; 192MB near 0.65 GiB but spills ~3 s more.)
# The value is checked against a strict size pattern by loader.core.settings before it reaches the SET statement.


def parse_xuid(text: str) -> int:
    """`2533274900000017` or `xuid(2533274900000017)` -> 2533274900000017."""
    raw = text.strip()
    if raw.startswith("xuid(") and raw.endswith(")"):
        raw = raw[5:-1]
    if not raw.isdigit():
        raise UsageError(f"--xuid {text!r} is not a XUID: give digits, e.g. 2533274900000017 or xuid(2533274900000017)")
    return int(raw)


def first_load_message(gamertag: str) -> str:
    return (f"first load of player {gamertag!r}: pass --xuid with the player's XUID so that only their matches are "
            "accepted")


def open_player_db(gamertag: str, xuid: int | None, root: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the player's DB for writing, create the raw schema, and check or record the owner XUID."""
    path = player_db_path(gamertag, root)
    if xuid is None and not path.exists():  # refused before anything is created (no database without an owner)
        raise OwnerUnknownError(first_load_message(gamertag))
    con = connect_for_writing(path, f"player database of {gamertag!r}")
    try:
        for statement in raw_tables.create_statements():
            con.execute(statement)
        row = fetch_one(con, "SELECT xuid, gamertag FROM raw.owner")
        if row is None:
            if xuid is None:
                raise OwnerUnknownError(first_load_message(gamertag))
            con.execute("INSERT INTO raw.owner VALUES (?, ?, ?, ?)",
                        [xuid, gamertag, player_dir_name(gamertag), dt.datetime.now(dt.UTC).replace(tzinfo=None)])
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


def named_xuid(player: str) -> str | None:
    """The XUID a player id names (`xuid(N)` or plain digits, as SPNKr writes them) as digits without leading zeros
    (text: a hostile id may have more digits than int() converts), or None (not a XUID)."""
    text = player.strip()
    if text.lower().startswith("xuid(") and text.endswith(")"):
        text = text[5:-1]
    return (text.lstrip("0") or "0") if text.isascii() and text.isdigit() else None


def check_owner(doc: Accepted, xuid: int) -> Accepted | Rejected:
    """Only the owner's documents enter the player's database. What names a player, per kind:

    - match stats, match skill: the match's players (`Players[].PlayerId`, `Value[].Id`). The owner must be one of
      them; the other players' rows are match data (the marts take the owner's by the owner's id).
    - career rank: `SpartanId`, the player the snapshot is of. A XUID other than the owner's is rejected (a snapshot
      without one, or with an id that is no XUID, is the owner's: the file was given with `--player`).
    - playlist CSR: `Value[].Id`, the players whose CSR it is: the owner must be one of them (the other entries
      are kept; the marts take the owner's).
    - service record: names no player (the API response has Subqueries and totals): the owner's, as the file was
      given with `--player`. Profile lookups name many players: they are names, not the owner's data.
    - match history pages do not name their player (the API response has Start, Count, ResultCount, Links,
      Results: no id); film highlight events name every player of the match: both are match data.
    """
    owner = f"xuid({xuid})"
    if doc.kind == "match_stats" and not any(p["player_id"] == owner for p in doc.model["players"]):
        return Rejected(doc.source, f"owner xuid({xuid}) is not a player of match {doc.doc_id}: this match "
                                    "belongs to another player's history; load it into that player's database",
                        doc.kind, doc.doc_id)
    if doc.kind == "match_skill" and not any(v["id"] == owner for v in doc.model["value"]):
        ids = ", ".join(v["id"][:40] for v in doc.model["value"][:4]) + (", ..." if len(doc.model["value"]) > 4 else "")
        return Rejected(doc.source, f"owner xuid({xuid}) has no entry in the match skill of match {doc.doc_id} "
                                    f"(Value[].Id: {ids or 'none'}): it is another player's skill; load it into "
                                    "that player's database", doc.kind, doc.doc_id)
    if doc.kind == "playlist_csr":
        named = {named_xuid(v["id"]) for v in doc.model["value"]} - {None}
        if named and str(xuid) not in named:
            return Rejected(doc.source, f"owner xuid({xuid}) has no entry in this playlist CSR (Value[].Id: "
                                                  f"{', '.join(sorted(n[:40] for n in named)[:4])}): it is another "
                                                  "player's CSR; load it into that player's database", doc.kind)
    if doc.kind == "career_rank":
        spartan = doc.model["spartan_id"]
        named = named_xuid(spartan) if spartan is not None else None
        if named is not None and named != str(xuid):
            return Rejected(doc.source, f"career rank: SpartanId {spartan[:40]!r} is xuid({named[:40]}), not the owner "
                                        f"xuid({xuid}): it is another player's career rank; load it into that "
                                        "player's database", doc.kind)
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


def load_workers() -> int:
    """Parsing processes: HALO_LOAD_WORKERS, else one per core (at most 4: the writer needs a core too)."""
    configured = settings.load_workers
    if configured is not None:
        return configured
    return max(1, min(4, os.cpu_count() or 1))


@refusals("halo load matches")
def load_matches(
    gamertag: str,
    paths: Sequence[Path],
    xuid: int | None = None,
    root: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    parsed: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """Load files/directories of match-side documents into the player's DB, in batches of BATCH_SIZE.

    The whole load is one transaction; bad documents are recorded in raw.rejected and never stop the batch.
    Reading, validation and flattening run in worker processes for large loads (they return Arrow tables, not
    models); this process only classifies documents against what is stored and writes. `progress(done, total)` is
    called after each written batch (inside the transaction), `parsed(done, total)` after each parsed chunk of
    CHUNK_SIZE files (a progress bar that moves while a batch is being parsed).
    """
    started = time.perf_counter()
    skipped: list[Skipped] = []
    files = list(iter_sources(paths, skipped))  # raises UsageError before anything is opened
    memory_limit = settings.load_memory_limit  # a bad setting too
    workers = load_workers() if len(files) >= PARALLEL_MIN_FILES else 0
    with contextlib.ExitStack() as stack:
        # The folder outlives the pool (no worker writes into it while it is removed); the pool is forked before the
        # database is opened: workers never see a DuckDB connection.
        out_dir = stack.enter_context(result_dir()) if workers > 1 else None
        pool = stack.enter_context(_pool(workers)) if workers > 1 else None
        con = open_player_db(gamertag, xuid, root)
        result = LoadResult(database=player_db_path(gamertag, root), skipped=skipped)
        try:
            # One transaction holds the whole load: without a limit DuckDB keeps what it has not written out yet
            # in memory (up to 80% of RAM by default); with one it spills that to its temporary directory.
            con.execute(f"SET memory_limit = '{memory_limit}'")
            owner = owner_xuid(con)
            with transaction(con), paused_gc():
                films_before = dict(con.execute("SELECT doc_id, sha256 FROM raw.documents WHERE kind = ?",
                                                [FILM_KIND]).fetchall())
                keys: list[DocKey] = []
                def chunk_parsed(done: int) -> None:
                    if parsed:
                        parsed(done, len(files))

                for batch in parsed_batches(files, owner, pool, out_dir, on_chunk=chunk_parsed):
                    keys.extend(k for k in batch.docs if k.kind in (FILM_KIND, "match_stats"))
                    counts = write_parsed_batch(con, batch, kind_tables=raw_tables.KIND_TABLES,
                                                schemas=raw_tables.SCHEMAS, primary_keys=raw_tables.PRIMARY_KEYS,
                                                shared_tables=raw_tables.SHARED_TABLES)
                    result.read += batch.files
                    result.counts.add(counts)
                    result.rejections.extend(batch.rejected)
                    del batch  # written: not held while the next batch is gathered
                    if progress:
                        progress(result.read, len(files))
                # films against their matches' stats, known now for the whole load (see loader.ingest.film_checks)
                result.rejections.extend(reject_foreign_films(con, keys, films_before, result.counts))
        finally:
            con.close()
    result.seconds = time.perf_counter() - started
    return result


# The workers hand their Arrow tables over as IPC files in a folder of the load, in memory (/dev/shm) where the
# system has room (containers often give it 64 MB), else in the temporary folder: this process maps them without a
# copy. Sent back through the pool's pipe they were pickled, copied through the kernel twice and unpickled: about a
# sixth of a 24-player load (2,000 documents: 3.96 -> 3.31 s). A file that cannot be written goes through the pipe.
SHM_MIN_FREE = 1 << 30


def _result_base() -> str:
    try:
        stat = os.statvfs("/dev/shm")
        if stat.f_bavail * stat.f_frsize >= SHM_MIN_FREE and os.access("/dev/shm", os.W_OK):
            return "/dev/shm"
    except (AttributeError, OSError):  # no statvfs (Windows), no /dev/shm
        pass
    return tempfile.gettempdir()


@contextlib.contextmanager
def result_dir() -> Iterator[str]:
    """A new folder for the workers' result files (removed afterwards; folders left by killed loads removed first)."""
    base = _result_base()
    remove_stale_result_dirs(base)
    path = tempfile.mkdtemp(prefix=f"{RESULT_DIR_PREFIX}{os.getpid()}-", dir=base)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _pool(workers: int) -> Iterator[multiprocessing.pool.Pool]:
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    pool = multiprocessing.get_context(method).Pool(workers)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def batch_plan(sizes: Sequence[int], max_files: int, max_bytes: int) -> list[tuple[int, int]]:
    """(start, end) file ranges of the batches: at most `max_files` files and `max_bytes` bytes each (a batch has
    at least one file, however large)."""
    plan: list[tuple[int, int]] = []
    start, total = 0, 0
    for index, size in enumerate(sizes):
        if index > start and (index - start >= max_files or total + size > max_bytes):
            plan.append((start, index))
            start, total = index, 0
        total += size
    if start < len(sizes):
        plan.append((start, len(sizes)))
    return plan


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the reader rejects it with the reason


def parsed_batches(files: Sequence[Path], owner: int, pool: multiprocessing.pool.Pool | None,
                   out_dir: str | None = None, on_chunk: Callable[[int], None] | None = None) -> Iterator[ParsedBatch]:
    """Batches of files (see `batch_plan`), read + validated + flattened (by `pool` when given, in file order; its
    workers write their tables into the folder `out_dir`, see `result_dir`; None in this process). `on_chunk` gets
    the number of files parsed so far after each task of CHUNK_SIZE files."""
    plan = batch_plan([_file_size(p) for p in files], max(1, BATCH_SIZE), BATCH_BYTES)
    tasks: list[tuple[int, list[str], int, str | None]] = []
    last_task: list[int] = []  # index of the last task of each batch
    for start, end in plan:
        for chunk in range(start, end, CHUNK_SIZE):
            tasks.append((chunk, [str(p) for p in files[chunk:min(chunk + CHUNK_SIZE, end)]], owner, out_dir))
        last_task.append(len(tasks) - 1)
    if pool is None:
        results: Iterator[tuple] = map(parse_chunk, tasks)
    else:
        # bounded look-ahead (bounded memory): the workers parse the next batch while this one is written
        per_batch = max((b - a for a, b in zip([-1, *last_task], last_task)), default=1)
        results = _in_order(pool, tasks, window=per_batch + pool._processes)
    ends = set(last_task)
    batch = ParsedBatch()
    parsed = 0
    for number, (task, (docs, rejected, tables)) in enumerate(zip(tasks, results)):
        batch.files += len(task[1])
        parsed += len(task[1])
        if on_chunk:
            on_chunk(parsed)
        batch.docs.extend(docs)
        batch.rejected.extend(rejected)
        for table, frame in tables.items():
            batch.tables.setdefault(table, []).append(_read_ipc(frame) if isinstance(frame, (str, bytes)) else frame)
        del docs, rejected, tables
        if number in ends:
            yield batch
            batch = ParsedBatch()


def _in_order(pool: multiprocessing.pool.Pool, tasks: Sequence[tuple], window: int) -> Iterator[tuple]:
    pending: deque = deque()
    queue = iter(list(tasks))
    for task in queue:
        pending.append(pool.apply_async(parse_chunk, (task,)))
        if len(pending) >= window:
            break
    while pending:
        done = pending.popleft().get()
        task = next(queue, None)
        if task is not None:
            pending.append(pool.apply_async(parse_chunk, (task,)))
        yield done
        del done


def _read_ipc(data: str | bytes):
    """A worker's table: mapped (not copied) from its file, which is removed at once (the mapping stays until the
    table is freed), or read from the IPC bytes themselves."""
    import pyarrow as pa

    if isinstance(data, str):
        source = pa.memory_map(data)
        with contextlib.suppress(OSError):  # Windows keeps a mapped file; the result folder is removed at the end
            os.unlink(data)
    else:
        source = pa.BufferReader(data)
    with pa.ipc.open_stream(source) as reader:
        return reader.read_all()


def _write_ipc(table, path: str) -> str | bytes:
    """`table` written to `path` as an Arrow IPC stream (the path returned); if that fails (e.g. /dev/shm full), the
    IPC bytes (sent through the pool's pipe)."""
    import pyarrow as pa

    try:
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return path
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(path)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def parse_chunk(task: tuple[int, list[str], int, str | None]) -> tuple[list[DocKey], list[Rejected], dict]:
    """Read, validate, owner-check and flatten files (a worker's task): keys of the accepted documents, the
    rejections, and one Arrow table per raw table, rows tagged with `_doc` (with `out_dir`, a worker's, the path of
    an Arrow IPC file there instead of each table)."""
    import pyarrow as pa

    start, paths, owner, out_dir = task
    keys: list[DocKey] = []
    rejected: list[Rejected] = []
    accepted: list[tuple[int, Accepted]] = []
    with paused_gc():
        for index, path in enumerate(paths, start):
            source = read_source(Path(path))
            outcome = source if isinstance(source, Rejected) else read_document(source)
            if isinstance(outcome, Accepted):
                outcome = check_owner(outcome, owner)
            if isinstance(outcome, Rejected):
                rejected.append(outcome)
                continue
            accepted.append((index, outcome))
        sources = [(index, doc, doc.source.sha256, doc.source.mtime.replace(tzinfo=None)) for index, doc in accepted]
        keys = [DocKey(index, doc.kind, doc.doc_id, sha, mtime) for index, doc, sha, mtime in sources]
        tables = flatten_tables(accepted)
        tables["documents"] = pa.table({
            "kind": pa.array([d.kind for _, d, _, _ in sources], pa.string()),
            "doc_id": pa.array([d.doc_id for _, d, _, _ in sources], pa.string()),
            "match_id": pa.array([str(d.match_id) if d.match_id else None for _, d, _, _ in sources], pa.string()),
            "source_path": pa.array([d.source.path_text for _, d, _, _ in sources], pa.string()),
            "source_mtime": pa.array([m for _, _, _, m in sources], pa.timestamp("us")),
            "sha256": pa.array([s for _, _, s, _ in sources], pa.string()),
            "byte_size": pa.array([len(d.source.data) for _, d, _, _ in sources], pa.int64()),
            "body": pa.array([d.source.data for _, d, _, _ in sources], pa.binary()),
            "_doc": pa.array([i for i, _, _, _ in sources], pa.int64()),
        })
        del accepted, sources
        if out_dir is not None:
            tables = {table: _write_ipc(frame, os.path.join(out_dir, f"{start}-{table}.arrow"))
                      for table, frame in tables.items()}
    return keys, rejected, tables
