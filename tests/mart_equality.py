"""Row-by-row comparison of marts built by different targets (player files, the `warehouse` DuckDB target, Spark).

`compare_marts(reference, other)` takes, for each mart, the rows of one owner as one side holds them (a list of
dicts, column -> value) and raises an AssertionError naming the mart, the column and the first differing rows when
the other side differs. Rows are compared as multisets (order never matters); floats are equal within `rel`
(1e-9 relative by default: an average over the same rows summed in another order may differ in the last bits);
values are normalised first so that each engine's Python types compare alike (Decimal -> float, an aware
timestamp -> naive UTC, numpy/Spark scalars -> Python, bytearray -> bytes, dates stay dates).

Reading a side:
- `read_duckdb_marts(db, owner_xuid, marts)` reads one owner's rows from a DuckDB file (a player's stats.duckdb or
  the warehouse): per-owner marts (those with an `owner_xuid` column) filtered by `owner_xuid`, match-level marts
  filtered to the owner's matches (the `match_id`s of the owner's `match_stats` rows).
- Another engine (Spark) builds the same `dict[mart, list[dict]]` with the same filters and calls `compare_marts`.

Columns left out of every comparison (`IGNORED_COLUMNS`): `loaded_at` (when the database last received any document
of the match: in a database of several owners the latest of their loads, in an owner's file that owner's load) and
`is_owner` (whether a participant is a tracked player: a player's file tracks one player, the warehouse all of them).
A database of several owners also knows more gamertags (a name seen in one owner's film names that player in every
match): `filled=frozenset({"gamertag"})` lets the other side fill a null of the reference (never change a value).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
MARTS = sorted(p.stem for p in (ROOT / "models" / "marts").glob("*.sql")) + ["match_stats_season_archive"]
IGNORED_COLUMNS = frozenset({"loaded_at", "is_owner"})
MATCH_LEVEL_KEY = "match_id"


def normalise(value: object) -> object:
    """One Python value per logical value, whichever engine returned it."""
    if value is None or isinstance(value, bool | str | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, list | tuple):
        return tuple(normalise(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, normalise(v)) for k, v in value.items()))
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return normalise(item())
    return value


def _floats_equal(a: float, b: float, rel: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _values_equal(a: object, b: object, rel: float) -> bool:
    if (isinstance(a, float) or isinstance(b, float)) and _is_number(a) and _is_number(b):
        return _floats_equal(float(a), float(b), rel)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_values_equal(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def _exact_part(row: tuple) -> tuple:
    """The row without its floats (rounded to 6 significant digits): the sort and match key."""
    return tuple(f"{v:.6g}" if isinstance(v, float) else repr(v) for v in row)


def _row_diff(columns: list[str], ref: tuple, got: tuple, rel: float, filled: frozenset[str]) -> list[str]:
    return [f"{c}: {r!r} != {g!r}" for c, r, g in zip(columns, ref, got, strict=True)
            if not (_values_equal(r, g, rel) or (c in filled and r is None))]


def compare_mart(mart: str, reference: list[dict], other: list[dict], *, rel: float = 1e-9,
                 filled: frozenset[str] = frozenset()) -> list[str]:
    """The differences between two sides' rows of one mart (empty: equal). A column in `filled` may hold a value
    on the other side where the reference has null (a database of many owners knows more names)."""
    ref_columns = [c for c in (reference[0] if reference else {}) if c not in IGNORED_COLUMNS]
    other_columns = [c for c in (other[0] if other else {}) if c not in IGNORED_COLUMNS]
    if reference and other and set(ref_columns) != set(other_columns):
        missing = sorted(set(ref_columns) - set(other_columns))
        extra = sorted(set(other_columns) - set(ref_columns))
        return [f"{mart}: columns differ: missing {missing}, extra {extra}"]
    if len(reference) != len(other):
        return [f"{mart}: {len(reference)} rows != {len(other)} rows"]
    key_columns = [i for i, c in enumerate(ref_columns) if c not in filled]

    def key(row: tuple) -> tuple:
        return _exact_part(tuple(row[i] for i in key_columns))

    ref_rows = sorted((tuple(normalise(r[c]) for c in ref_columns) for r in reference), key=key)
    got_rows = sorted((tuple(normalise(r[c]) for c in ref_columns) for r in other), key=key)
    problems = []
    unmatched_ref = Counter()
    for ref, got in zip(ref_rows, got_rows, strict=True):
        diff = _row_diff(ref_columns, ref, got, rel, filled)
        if diff:
            unmatched_ref[ref] += 1
            if len(problems) < 5:
                problems.append(f"{mart}: row {dict(zip(ref_columns, ref, strict=True))!r}\n    differs in "
                                + "; ".join(diff))
    if unmatched_ref:
        problems.insert(0, f"{mart}: {sum(unmatched_ref.values())} of {len(ref_rows)} rows differ")
    return problems


def compare_marts(reference: dict[str, list[dict]], other: dict[str, list[dict]], *, rel: float = 1e-9,
                  filled: frozenset[str] = frozenset()) -> None:
    """Every mart of `reference` holds the same rows in `other` (floats within `rel`; `filled`: see compare_mart);
    AssertionError otherwise."""
    problems = [f"{mart}: missing from the other side" for mart in reference if mart not in other]
    for mart, rows in reference.items():
        if mart in other:
            problems += compare_mart(mart, rows, other[mart], rel=rel, filled=filled)
    assert not problems, "\n".join(problems)


def _dict_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_duckdb_marts(db: Path, owner_xuid: int, marts: list[str] | None = None,
                      meta: Path | None = None) -> dict[str, list[dict]]:
    """One owner's rows of each mart in a DuckDB file (read-only; `meta` attached as `meta` when given, for
    marts that are views over it)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        if meta is not None:
            con.execute("ATTACH ? AS meta (READ_ONLY)", [str(meta)])
        matches = [r[0] for r in con.execute("SELECT match_id FROM main.match_stats WHERE owner_xuid = ?",
                                             [owner_xuid]).fetchall()]
        out = {}
        for mart in marts or MARTS:
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? "
                "AND table_catalog = current_database() ORDER BY ordinal_position", [mart]).fetchall()]
            assert columns, f"{db}: no mart {mart}"
            if "owner_xuid" in columns:
                out[mart] = _dict_rows(con, f'SELECT * FROM main."{mart}" WHERE owner_xuid = ?', [owner_xuid])
            elif MATCH_LEVEL_KEY in columns:
                out[mart] = _dict_rows(con, f'SELECT * FROM main."{mart}" WHERE match_id IN (SELECT unnest(?))',
                                       [matches])
            else:
                raise AssertionError(f"{mart} has neither owner_xuid nor match_id: cannot filter by owner")
        return out
    finally:
        con.close()


def demo_documents(folder: Path) -> tuple[dict[str, dict], list[dict]]:
    """(match id -> match-stats document, film documents) of a demo player's folder, read with plain json."""
    matches, films = {}, []
    for path in folder.glob("*.json"):
        doc = json.loads(path.read_bytes())
        if isinstance(doc, dict) and "MatchInfo" in doc and "Players" in doc:
            matches[doc["MatchId"]] = doc
        elif isinstance(doc, dict) and "Events" in doc:
            films.append(doc)
    return matches, films


def load_demo_friends(tmp: Path, matches_per_player: int, seed: int) -> tuple[Path, dict[int, tuple[str, Path]]]:
    """Three demo players who play some sessions together (the generator writes a shared match into each friend's
    folder), loaded with the real loader into `tmp/data`, the metadata built (conftest.built_metadata): the data dir
    and xuid -> (gamertag, the player's demo folder). The targets' tests build it their ways."""
    from conftest import built_metadata

    from loader.demo.generate import generate_demo
    from loader.ingest.load_matches import load_matches

    root = tmp / "data"
    manifest = generate_demo(tmp / "source", players=3, matches_per_player=matches_per_player, seed=seed)
    built_metadata(root, manifest.reference_dir)
    owners = {}
    for gamertag, xuid, folder in manifest.players:
        assert load_matches(gamertag, [folder], xuid=xuid, root=root).counts.rejected == 0
        owners[xuid] = (gamertag, folder)
    return root, owners
