"""Write a batch of documents into a `raw` schema: one transaction, Arrow frames, no row-by-row SQL.

Rules (the same for player and metadata databases):
- a document is keyed by (kind, natural id); the same bytes again change nothing;
- a different copy replaces the stored one (its typed rows too) unless its file
  is older than the stored copy's file, in which case the stored copy is kept;
- within one batch the newest file of a key wins;
- every rejected document is kept in `raw.rejected` with its bytes, once per (path, bytes);
- a load is one transaction (`transaction`), written batch by batch to bound memory.
"""

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from loader.readers import Accepted, Rejected

FramesBuilder = Callable[[Iterable[Accepted], dt.datetime], dict[str, pl.DataFrame]]


@dataclass
class BatchCounts:
    """What a batch did: documents loaded (new), unchanged, replaced, older copies ignored, rejected."""

    loaded: int = 0
    unchanged: int = 0
    replaced: int = 0
    older_ignored: int = 0
    rejected: int = 0
    loaded_by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, other: "BatchCounts") -> None:
        for name in ("loaded", "unchanged", "replaced", "older_ignored", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, n in other.loaded_by_kind.items():
            self.loaded_by_kind[kind] = self.loaded_by_kind.get(kind, 0) + n


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction around a whole load: either every batch of it is stored, or none."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def newest_per_key(docs: Sequence[Accepted]) -> tuple[list[Accepted], int]:
    """Keep the newest file per (kind, doc_id) within a batch; also return how many were dropped."""
    best: dict[tuple[str, str], Accepted] = {}
    for doc in docs:
        key = (doc.kind, doc.doc_id)
        if key not in best or doc.source.mtime >= best[key].source.mtime:
            best[key] = doc
    return list(best.values()), len(docs) - len(best)


def _register(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    con.register(name, frame.to_arrow())


def write_batch(
    con: duckdb.DuckDBPyConnection,
    accepted: Sequence[Accepted],
    rejected: Sequence[Rejected],
    *,
    kind_tables: dict[str, tuple[tuple[str, str], ...]],
    build_frames: FramesBuilder,
    schemas: dict[str, dict[str, pl.DataType]],
    primary_keys: dict[str, tuple[str, ...]],
) -> BatchCounts:
    """Classify against what is stored, then delete replaced rows and insert new ones.

    The caller owns the transaction (see `transaction`): a whole load commits at once.
    """
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    counts = BatchCounts(rejected=len(rejected))
    docs, duplicates_in_batch = newest_per_key(accepted)
    counts.older_ignored += duplicates_in_batch

    keys = pl.DataFrame(
        {"kind": [d.kind for d in docs], "doc_id": [d.doc_id for d in docs],
         "sha256": [d.source.sha256 for d in docs], "source_mtime": [d.source.mtime.replace(tzinfo=None) for d in docs]},
        schema={"kind": pl.Utf8(), "doc_id": pl.Utf8(), "sha256": pl.Utf8(), "source_mtime": pl.Datetime("us")},
    )
    _register(con, "_batch_keys", keys)
    stored = {
        (kind, doc_id): (sha, mtime)
        for kind, doc_id, sha, mtime in con.execute(
            "SELECT d.kind, d.doc_id, d.sha256, d.source_mtime FROM raw.documents d "
            "JOIN _batch_keys k USING (kind, doc_id)"
        ).fetchall()
    }
    to_write: list[Accepted] = []
    replaced: list[Accepted] = []
    for doc in docs:
        old = stored.get((doc.kind, doc.doc_id))
        if old is None:
            to_write.append(doc)
        elif old[0] == doc.source.sha256:
            counts.unchanged += 1
        elif doc.source.mtime.replace(tzinfo=None) < old[1]:
            counts.older_ignored += 1
        else:
            to_write.append(doc)
            replaced.append(doc)
    counts.loaded = len(to_write) - len(replaced)
    counts.replaced = len(replaced)
    for doc in to_write:
        counts.loaded_by_kind[doc.kind] = counts.loaded_by_kind.get(doc.kind, 0) + 1

    frames = build_frames(to_write, now)
    documents = pl.from_dicts(
        [{"kind": d.kind, "doc_id": d.doc_id, "match_id": str(d.match_id) if d.match_id else None,
          "source_path": d.source.path_text, "source_mtime": d.source.mtime.replace(tzinfo=None),
          "sha256": d.source.sha256, "byte_size": len(d.source.data), "loaded_at": now, "body": d.source.data}
         for d in to_write],
        schema=schemas["documents"],
    )
    rejects = pl.from_dicts(
        [{"source_path": r.source.path_text, "sha256": r.source.sha256, "kind": r.kind, "match_id": r.match_id,
          "reason": r.reason, "byte_size": len(r.source.data), "rejected_at": now, "body": r.source.data}
         for r in rejected],
        schema=schemas["rejected"],
    ).unique(subset=["source_path", "sha256"], keep="last")

    try:
        replaced_ids = pl.DataFrame({"kind": [d.kind for d in replaced], "doc_id": [d.doc_id for d in replaced]},
                                    schema={"kind": pl.Utf8(), "doc_id": pl.Utf8()})
        _register(con, "_replaced", replaced_ids)
        for kind, tables in kind_tables.items():
            for table, key_column in tables:
                con.execute(f'DELETE FROM raw.{table} WHERE "{key_column}" IN '
                            "(SELECT doc_id FROM _replaced WHERE kind = ?)", [kind])
        con.execute("DELETE FROM raw.documents WHERE (kind, doc_id) IN (SELECT (kind, doc_id) FROM _replaced)")
        for table, frame in frames.items():
            if frame.height == 0:
                continue
            _register(con, "_frame", frame)
            # Rows keyed by something other than their document (history rows, keyed by match) are upserted.
            on = " AND ".join(f't."{c}" = f."{c}"' for c in primary_keys[table])
            con.execute(f"DELETE FROM raw.{table} t WHERE EXISTS (SELECT 1 FROM _frame f WHERE {on})")
            con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM _frame")
        if documents.height:
            _register(con, "_frame", documents)
            con.execute("INSERT INTO raw.documents BY NAME SELECT * FROM _frame")
        if rejects.height:
            _register(con, "_frame", rejects)
            con.execute("INSERT INTO raw.rejected BY NAME SELECT * FROM _frame f WHERE NOT EXISTS "
                        "(SELECT 1 FROM raw.rejected r WHERE r.source_path = f.source_path AND r.sha256 = f.sha256)")
    finally:
        for name in ("_batch_keys", "_replaced", "_frame"):
            try:
                con.unregister(name)
            except Exception:
                pass
    return counts


@dataclass
class LoadResult:
    """Summary of one load: counts, the rejections (with reasons) and the elapsed time."""

    database: Path
    read: int = 0
    counts: BatchCounts = field(default_factory=BatchCounts)
    rejections: list[Rejected] = field(default_factory=list)
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------------------------
# The match loader's fast path: documents arrive already flattened into Arrow tables (by worker processes), each
# row tagged with `_doc`, the position of its document in the load. The rules above are unchanged; only the rows of
# the documents chosen to be written are inserted.

@dataclass(frozen=True)
class DocKey:
    """What the writer needs to know about an accepted document (its rows and bytes are in the Arrow tables)."""

    index: int
    kind: str
    doc_id: str
    sha256: str
    mtime: dt.datetime  # naive UTC


@dataclass
class ParsedBatch:
    """A batch of files read, validated and flattened: accepted keys, rejections, Arrow tables by raw table
    (`documents` holds the accepted documents' bytes)."""

    files: int = 0
    docs: list[DocKey] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    tables: dict[str, list] = field(default_factory=dict)  # table -> [pyarrow.Table, ...]


def write_parsed_batch(
    con: duckdb.DuckDBPyConnection,
    batch: ParsedBatch,
    *,
    kind_tables: dict[str, tuple[tuple[str, str], ...]],
    schemas: dict[str, dict[str, pl.DataType]],
    primary_keys: dict[str, tuple[str, ...]],
    shared_tables: frozenset[str],
) -> BatchCounts:
    """`write_batch` for pre-flattened documents. Tables whose rows belong to exactly one document need no upsert
    (a document's old rows are deleted when it is replaced; a new document has none); only `shared_tables` (rows
    keyed by something several documents carry, e.g. match history rows keyed by match) are upserted."""
    import pyarrow as pa

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    counts = BatchCounts(rejected=len(batch.rejected))
    best: dict[tuple[str, str], DocKey] = {}
    for doc in batch.docs:
        key = (doc.kind, doc.doc_id)
        if key not in best or doc.mtime >= best[key].mtime:
            best[key] = doc
    docs = list(best.values())
    counts.older_ignored += len(batch.docs) - len(docs)

    to_write: list[DocKey] = []
    replaced: list[DocKey] = []
    if docs:
        _batch_keys = pa.table({"kind": pa.array([d.kind for d in docs], pa.string()),  # noqa: F841 (scanned)
                                "doc_id": pa.array([d.doc_id for d in docs], pa.string())})
        stored = {(kind, doc_id): (sha, mtime) for kind, doc_id, sha, mtime in con.execute(
            "SELECT d.kind, d.doc_id, d.sha256, d.source_mtime FROM raw.documents d "
            "JOIN _batch_keys k USING (kind, doc_id)").fetchall()}
        del _batch_keys
        for doc in docs:
            old = stored.get((doc.kind, doc.doc_id))
            if old is None:
                to_write.append(doc)
            elif old[0] == doc.sha256:
                counts.unchanged += 1
            elif doc.mtime < old[1]:
                counts.older_ignored += 1
            else:
                to_write.append(doc)
                replaced.append(doc)
    counts.loaded = len(to_write) - len(replaced)
    counts.replaced = len(replaced)
    for doc in to_write:
        counts.loaded_by_kind[doc.kind] = counts.loaded_by_kind.get(doc.kind, 0) + 1

    rejects = pl.from_dicts(
        [{"source_path": r.source.path_text, "sha256": r.source.sha256, "kind": r.kind, "match_id": r.match_id,
          "reason": r.reason, "byte_size": len(r.source.data), "rejected_at": now, "body": r.source.data}
         for r in batch.rejected],
        schema=schemas["rejected"],
    ).unique(subset=["source_path", "sha256"], keep="last")

    # The frames are scanned by name from this function's locals (DuckDB's replacement scan), not `con.register`ed:
    # a view registered and dropped inside the load's transaction keeps its Arrow table alive until COMMIT, so a
    # load held every batch it had written (measured: +90 MiB per 2,000 24-player documents).
    keep = ""
    if len(to_write) < len(batch.docs):
        _keep = pa.table({"_doc": pa.array([d.index for d in to_write], pa.int64())})  # noqa: F841 (scanned)
        keep = " WHERE f._doc IN (SELECT _doc FROM _keep)"
    if replaced:
        _replaced = pa.table({"kind": pa.array([d.kind for d in replaced], pa.string()),  # noqa: F841 (scanned)
                              "doc_id": pa.array([d.doc_id for d in replaced], pa.string())})
        for kind, tables in kind_tables.items():
            if not any(d.kind == kind for d in replaced):
                continue
            for table, key_column in tables:
                con.execute(f'DELETE FROM raw.{table} WHERE "{key_column}" IN '
                            "(SELECT doc_id FROM _replaced WHERE kind = ?)", [kind])
        con.execute("DELETE FROM raw.documents WHERE (kind, doc_id) IN (SELECT (kind, doc_id) FROM _replaced)")
    if to_write:
        # documents last: the typed rows of a document are in before its bytes, as in `write_batch`
        for table in [*(t for t in batch.tables if t != "documents"), "documents"]:
            parts = [t for t in batch.tables.get(table, ()) if t.num_rows]
            if not parts:
                continue
            _frame = pa.concat_tables(parts) if len(parts) > 1 else parts[0]  # no copy: the parts become chunks
            stamp = ", $now AS loaded_at" if "loaded_at" in schemas[table] else ""
            select = f"SELECT * EXCLUDE (_doc){stamp} FROM _frame f{keep}"
            params = {"now": now} if stamp else {}
            if table in shared_tables:
                # several documents of the batch may carry the same key (overlapping history pages): the last wins
                pk = ", ".join(f'f."{c}"' for c in primary_keys[table])
                select += f" QUALIFY row_number() OVER (PARTITION BY {pk} ORDER BY f._doc DESC) = 1"
                on = " AND ".join(f't."{c}" = s."{c}"' for c in primary_keys[table])
                con.execute(f"DELETE FROM raw.{table} t WHERE EXISTS (SELECT 1 FROM ({select}) s WHERE {on})",
                            params)
            con.execute(f"INSERT INTO raw.{table} BY NAME {select}", params)
            del _frame
    if rejects.height:
        _frame = rejects.to_arrow()  # noqa: F841 (scanned)
        con.execute("INSERT INTO raw.rejected BY NAME SELECT * FROM _frame f WHERE NOT EXISTS "
                    "(SELECT 1 FROM raw.rejected r WHERE r.source_path = f.source_path AND r.sha256 = f.sha256)")
    return counts
