"""Write a batch of documents into a `raw` schema: one transaction, Arrow frames, no row-by-row SQL.

Rules (the same for player and metadata databases):
- a document is keyed by (kind, natural id); the same bytes again change nothing;
- a different copy replaces the stored one (its typed rows too) unless its file
  is older than the stored copy's file, in which case the stored copy is kept;
- within one batch the newest file of a key wins;
- "newer" is the file's modification time, then (same time, different bytes) the larger SHA-256: a total order,
  so the result does not depend on the order of the files or on how they are split into loads;
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
import pyarrow as pa

from loader.ingest.documents import Accepted, Rejected, Skipped

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


@dataclass(frozen=True)
class DocKey:
    """What the writer needs to know about an accepted document (its rows and bytes are elsewhere): `index` is its
    position in the load (or batch), `mtime` its file's modification time as naive UTC."""

    index: int
    kind: str
    doc_id: str
    sha256: str
    mtime: dt.datetime


def classify(con: duckdb.DuckDBPyConnection, keys: Sequence[DocKey], counts: BatchCounts) -> tuple[list[DocKey],
                                                                                                   list[DocKey]]:
    """The rules above: the documents to write and, among them, those replacing a stored copy; `counts` gets the
    loaded, unchanged, replaced and older-ignored numbers."""
    best: dict[tuple[str, str], DocKey] = {}
    for doc in keys:  # within one batch the newest file of a key wins
        key = (doc.kind, doc.doc_id)
        if key not in best or (doc.mtime, doc.sha256) > (best[key].mtime, best[key].sha256):
            best[key] = doc
    docs = list(best.values())
    counts.older_ignored += len(keys) - len(docs)
    to_write: list[DocKey] = []
    replaced: list[DocKey] = []
    if docs:
        # scanned by name from this local (DuckDB's replacement scan), not `con.register`ed: a view registered
        # inside the load's transaction keeps its Arrow table alive until COMMIT (see `write_parsed_batch`)
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
            elif (doc.mtime, doc.sha256) < (old[1], old[0]):
                counts.older_ignored += 1
            else:
                to_write.append(doc)
                replaced.append(doc)
    counts.loaded += len(to_write) - len(replaced)
    counts.replaced += len(replaced)
    for doc in to_write:
        counts.loaded_by_kind[doc.kind] = counts.loaded_by_kind.get(doc.kind, 0) + 1
    return to_write, replaced


def insert_rejected(con: duckdb.DuckDBPyConnection, rejected: Sequence[Rejected], now: dt.datetime,
                    schema: dict[str, pl.DataType]) -> None:
    """Every rejected document with its bytes, once per (path, bytes)."""
    if not rejected:
        return
    _frame = pl.from_dicts(  # noqa: F841 (scanned)
        [{"source_path": r.source.path_text, "sha256": r.source.sha256, "kind": r.kind, "match_id": r.match_id,
          "reason": r.reason, "byte_size": len(r.source.data), "rejected_at": now, "body": r.source.data}
         for r in rejected],
        schema=schema,
    ).unique(subset=["source_path", "sha256"], keep="last").to_arrow()
    con.execute("INSERT INTO raw.rejected BY NAME SELECT * FROM _frame f WHERE NOT EXISTS "
                "(SELECT 1 FROM raw.rejected r WHERE r.source_path = f.source_path AND r.sha256 = f.sha256)")


def delete_replaced(con: duckdb.DuckDBPyConnection, replaced: Sequence[Accepted | DocKey],
                    kind_tables: dict[str, tuple[tuple[str, str], ...]]) -> None:
    """Delete the stored rows and bytes of documents a newer copy replaces (their kinds' tables only)."""
    if not replaced:
        return
    # scanned by name from this local (see `classify`)
    _replaced = pa.table({"kind": pa.array([d.kind for d in replaced], pa.string()),  # noqa: F841 (scanned)
                          "doc_id": pa.array([d.doc_id for d in replaced], pa.string())})
    for kind in sorted({d.kind for d in replaced}):
        for table, key_column in kind_tables.get(kind, ()):
            con.execute(f'DELETE FROM raw.{table} WHERE "{key_column}" IN '
                        "(SELECT doc_id FROM _replaced WHERE kind = ?)", [kind])
    con.execute("DELETE FROM raw.documents WHERE (kind, doc_id) IN (SELECT (kind, doc_id) FROM _replaced)")


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
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    counts = BatchCounts(rejected=len(rejected))
    keys = [DocKey(i, d.kind, d.doc_id, d.source.sha256, d.source.mtime.replace(tzinfo=None))
            for i, d in enumerate(accepted)]
    write_keys, replaced = classify(con, keys, counts)
    to_write = [accepted[k.index] for k in write_keys]

    frames = build_frames(to_write, now)
    documents = pl.from_dicts(
        [{"kind": d.kind, "doc_id": d.doc_id, "match_id": str(d.match_id) if d.match_id else None,
          "source_path": d.source.path_text, "source_mtime": d.source.mtime.replace(tzinfo=None),
          "sha256": d.source.sha256, "byte_size": len(d.source.data), "loaded_at": now, "body": d.source.data}
         for d in to_write],
        schema=schemas["documents"],
    )
    # frames are scanned by name from locals, never `con.register`ed (see `classify`)
    delete_replaced(con, replaced, kind_tables)
    for table, frame in frames.items():
        if frame.height == 0:
            continue
        _frame = frame.to_arrow()
        # Rows keyed by something other than their document (history rows, keyed by match) are upserted.
        on = " AND ".join(f't."{c}" = f."{c}"' for c in primary_keys[table])
        con.execute(f"DELETE FROM raw.{table} t WHERE EXISTS (SELECT 1 FROM _frame f WHERE {on})")
        con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM _frame")
    if documents.height:
        _frame = documents.to_arrow()  # noqa: F841 (scanned)
        con.execute("INSERT INTO raw.documents BY NAME SELECT * FROM _frame")
    insert_rejected(con, rejected, now, schemas["rejected"])
    return counts


@dataclass
class LoadResult:
    """Summary of one load: counts, the rejections (with reasons), what was found and not read (`skipped`: FIFOs,
    dangling links, folders that cannot be listed, with reasons; not stored) and the elapsed time."""

    database: Path
    read: int = 0
    counts: BatchCounts = field(default_factory=BatchCounts)
    rejections: list[Rejected] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------------------------
# The match loader's fast path: documents arrive already flattened into Arrow tables (by worker processes), each
# row tagged with `_doc`, the position of its document in the load. The rules above are unchanged; only the rows of
# the documents chosen to be written are inserted.

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
    shared_tables: dict[str, tuple[str, str]],
) -> BatchCounts:
    """`write_batch` for pre-flattened documents. Tables whose rows belong to exactly one document need no upsert
    (a document's old rows are deleted when it is replaced; a new document has none); only `shared_tables` (rows
    keyed by something several documents carry, e.g. match history rows keyed by match: table -> (kind, column of
    the document id)) are upserted, each row following the newest document that holds its key (`upsert_shared`)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    counts = BatchCounts(rejected=len(batch.rejected))
    to_write, replaced = classify(con, batch.docs, counts)

    # The frames are scanned by name from this function's locals (DuckDB's replacement scan), not `con.register`ed:
    # a view registered and dropped inside the load's transaction keeps its Arrow table alive until COMMIT, so a
    # load held every batch it had written (measured: +90 MiB per 2,000 24-player documents).
    keep = ""
    if len(to_write) < len(batch.docs):
        _keep = pa.table({"_doc": pa.array([d.index for d in to_write], pa.int64())})  # noqa: F841 (scanned)
        keep = " WHERE f._doc IN (SELECT _doc FROM _keep)"
    delete_replaced(con, replaced, kind_tables)
    if to_write:
        # documents last: the typed rows of a document are in before its bytes, as in `write_batch`
        for table in [*(t for t in batch.tables if t != "documents"), "documents"]:
            parts = [t for t in batch.tables.get(table, ()) if t.num_rows]
            if not parts:
                continue
            _frame = pa.concat_tables(parts) if len(parts) > 1 else parts[0]  # no copy: the parts become chunks
            stamp = ", $now AS loaded_at" if "loaded_at" in schemas[table] else ""
            params = {"now": now} if stamp else {}
            if table in shared_tables:
                upsert_shared(con, table, _frame, stamp, params, shared_tables[table], primary_keys[table], to_write)
            else:
                con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * EXCLUDE (_doc){stamp} FROM _frame f{keep}",
                            params)
            del _frame
    insert_rejected(con, batch.rejected, now, schemas["rejected"])
    return counts



def upsert_shared(con: duckdb.DuckDBPyConnection, table: str, frame: pa.Table, stamp: str, params: dict,
                  owner: tuple[str, str], key: tuple[str, ...], to_write: Sequence[DocKey]) -> None:
    """The rows of `frame` (tagged with `_doc`) of the documents `to_write` into a shared table: per key, the row of
    the newest document (modification time, then the larger document id, as in `classify`) among this batch's and
    the stored ones. A stored row of a newer document stays; an older one is replaced. The order is total, so any
    order or split of the loads gives the same rows."""
    kind, doc_column = owner
    # scanned by name from these locals (see `classify`); this batch's documents are not in raw.documents yet
    _frame = frame  # noqa: F841 (scanned)
    _order = pa.table({"_doc": pa.array([d.index for d in to_write], pa.int64()),  # noqa: F841 (scanned)
                       "_mtime": pa.array([d.mtime for d in to_write], pa.timestamp("us")),
                       "_doc_id": pa.array([d.doc_id for d in to_write], pa.string())})
    pk = ", ".join(f'f."{c}"' for c in key)
    on = " AND ".join(f't."{c}" = s."{c}"' for c in key)
    # The batch's newest row per key, unless a stored row of that key comes from a newer document. Evaluated twice:
    # the DELETE removes only stored rows of older documents, so the INSERT sees the same rows.
    newest = (f"SELECT * EXCLUDE (_doc, _mtime, _doc_id){stamp} FROM (SELECT f.*, o._mtime, o._doc_id FROM _frame f "
              f"JOIN _order o USING (_doc) "
              f"QUALIFY row_number() OVER (PARTITION BY {pk} ORDER BY o._mtime DESC, o._doc_id DESC) = 1) s "
              f"WHERE NOT EXISTS (SELECT 1 FROM raw.{table} t JOIN raw.documents d "
              f'ON d.kind = $kind AND d.doc_id = t."{doc_column}" WHERE {on} AND '
              "(d.source_mtime > s._mtime OR (d.source_mtime = s._mtime AND d.doc_id > s._doc_id)))")
    params = {**params, "kind": kind}
    con.execute(f"DELETE FROM raw.{table} t WHERE EXISTS (SELECT 1 FROM ({newest}) s WHERE {on})", params)
    con.execute(f"INSERT INTO raw.{table} BY NAME {newest}", params)
