"""Fuzzing the match loader with mutated real API documents (hypothesis).

Every mutated document is either loaded, with the typed rows equal to its input, or rejected with a
reason (kept in raw.rejected); the load itself never raises, and after every load the player database
is consistent: each stored original document has exactly the typed rows its own bytes describe, no
typed row lacks its document, and natural keys are unique.

The expected values are computed independently of the loader: plain `json.loads` of the stored bytes
(which, like the loader, keeps the last of duplicated keys) and SPNKr's film reader for film chunks.
"""

import copy
import datetime as dt
import json
import math
import re
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import pytest
from conftest import FILM, MATCH_STATS_FILES, OWNER_XUID, RESPONSES
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from spnkr.film import highlight_events as spnkr_events

from loader.core.paths import player_db_path
from loader.ingest.load_matches import load_matches

PLAYER = "Fuzz Spartan"
SKILL_MATCH = "63391382-6b88-43f9-9ff4-6313404c419c"
SMALL_FILM = FILM / "highlight_events.gzip"
SMALL_FILM_MATCH = "01ee3491-1ca1-4822-b23e-63e836104f32"  # film/match_stats.json
BIG_FILM = FILM / f"38_{SKILL_MATCH}.gzip"
FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


def _events_json(chunk: Path, version: int, match_id: str) -> dict:
    return {"MatchId": match_id, "FilmMajorVersion": version,
            "Events": [{"Xuid": e.xuid, "Gamertag": e.gamertag, "TypeHint": e.type_hint, "IsMedal": e.is_medal,
                        "EventType": e.event_type, "TimeMs": e.time_ms, "MedalValue": e.medal_value,
                        "MedalName": e.medal_name} for e in spnkr_events.read(chunk.read_bytes(), version)]}


# (file name the loader recognises, the document)
DOCUMENTS: dict[str, tuple[str, Any]] = {
    **{path.stem: (f"{path.stem}.json", json.loads(path.read_bytes())) for path in MATCH_STATS_FILES},
    "history": ("history.json", json.loads((RESPONSES / "get_match_history.json").read_bytes())),
    "skill": (f"skill_{SKILL_MATCH}.json", json.loads((RESPONSES / "get_match_skill.json").read_bytes())),
    "career": ("career_rank.json", {**json.loads((RESPONSES / "get_player_career_rank.json").read_bytes()),
                                    "ObservedAt": "2024-05-01T10:00:00Z"}),
    "events": ("events.highlights.json", _events_json(SMALL_FILM, 37, SMALL_FILM_MATCH)),
}


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys/indexes) inside a JSON value, the root excluded."""
    out = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


# The values the consistency check compares: mutations aim at them half of the time.
KEY_FIELD = re.compile(r"^(MatchId|StartTime|PlayerId|Id|Kills|Deaths|Score|Outcome|Rank|LastTeamId|TeamId|"
                       r"TeamMmr|ResultCode|Xuid|TimeMs|PartialProgress|Players|Teams|Value|Results|Events|"
                       r"PlayerTeamStats|CurrentProgress|MatchInfo|ObservedAt)$")
ALL_PATHS = {name: _paths(doc) for name, (_, doc) in DOCUMENTS.items()}
KEY_PATHS = {name: [p for p in paths if isinstance(p[-1], str) and KEY_FIELD.match(p[-1])] or paths
             for name, paths in ALL_PATHS.items()}

NUMERIC_PATHS = {name: [p for p in KEY_PATHS[name] if isinstance(_get(DOCUMENTS[name][1], p), (int, float))]
                 or KEY_PATHS[name] for name in DOCUMENTS}
EDGE_INTS = [0, -1, 1, 2**31, -2**31, 2**53 + 1, 10**17 - 1, 10**17, 2**63 - 1, 2**63, -2**63, -2**63 - 1,
             2**64, 10**30]
scalars = st.one_of(
    st.none(), st.booleans(),
    st.sampled_from(EDGE_INTS), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),  # any unicode, incl. NUL and lone surrogates
    st.sampled_from(["7", " 12 ", "-3", "1.0", "abc", "", "xuid(1)", "xuid(99999999999999999999)", "xuid(²)",
                     "bid(1.0)", "'; DROP TABLE raw.matches; --", "\x00", "9999-12-31T23:59:59-14:00",
                     "0001-01-01T00:00:00+14:00", "2024-02-30T00:00:00Z", "PT-5S", "P99999999D", "\u202e",
                     "00000000-0000-0000-0000-000000000000", "🎮" * 50, "a" * 5000]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=8), scalars, max_size=3))


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """(document name, file name, mutated bytes)."""
    name = draw(st.sampled_from(sorted(DOCUMENTS)))
    file_name, original = DOCUMENTS[name]
    doc = copy.deepcopy(original)
    # A third of the cases only change values (same JSON types) and stay well-formed: most of them load,
    # so the stored values are compared with their input; the rest are free-for-all.
    gentle = draw(st.integers(0, 2)) == 0
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        pool = NUMERIC_PATHS[name] if gentle else KEY_PATHS[name] if draw(st.booleans()) else ALL_PATHS[name]
        path = draw(st.sampled_from(pool))
        try:
            parent = _get(doc, path[:-1])
            key = path[-1]
            current = parent[key]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this part
        op = "tweak" if gentle else draw(st.sampled_from(["delete", "replace", "tweak", "duplicate", "wrap", "deep"]))
        if op == "tweak":  # same JSON type, new value: usually still valid, so the stored values are compared
            if isinstance(current, bool):
                parent[key] = not current
            elif isinstance(current, int):
                parent[key] = draw(st.one_of(st.sampled_from(EDGE_INTS), st.integers(-10**6, 10**6)))
            elif isinstance(current, float):
                parent[key] = draw(st.floats(allow_nan=False, allow_infinity=draw(st.booleans())))
            elif isinstance(current, str):
                parent[key] = draw(st.one_of(st.text(max_size=30), st.just(current.upper()),
                                             st.just(current + "\x00'\"; --")))
            else:
                parent[key] = draw(values)
        elif op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(values)
        elif op == "duplicate":
            if isinstance(parent, list):
                parent.insert(key, copy.deepcopy(current))
            elif isinstance(current, list) and current:
                current.append(copy.deepcopy(current[draw(st.integers(0, len(current) - 1))]))
            else:
                parent[key] = [current, current]
        elif op == "wrap":
            parent[key] = {"Value": current} if draw(st.booleans()) else [current]
        else:
            depth = draw(st.sampled_from([50, 500, 5000]))
            parent[key] = json.loads("[" * depth + "]" * depth) if depth < 900 else None
            if depth >= 900:
                parent[key] = "__DEEP__"
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 1])))
    text = text.replace('"__DEEP__"', "[" * 5000 + "]" * 5000)
    data = text.encode("utf-8", "surrogatepass")  # lone surrogates become invalid UTF-8 bytes
    encoding = "as is" if gentle else draw(st.sampled_from(["as is", "truncate", "duplicate key", "bom",
                                                              "garbage tail"]))
    if encoding == "truncate":
        data = data[:draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))]
    elif encoding == "duplicate key":
        keys = [m.start() for m in re.finditer(rb'"[A-Za-z]+"\s*:', data)]
        if keys:
            at = keys[draw(st.integers(0, len(keys) - 1))]
            key = re.match(rb'"[A-Za-z]+"', data[at:]).group(0)
            data = data[:at] + key + b": " + json.dumps(draw(scalars)).encode() + b", " + data[at:]
    elif encoding == "bom":
        data = b"\xef\xbb\xbf" + data
    elif encoding == "garbage tail":
        data = data + draw(st.binary(min_size=1, max_size=20))
    return name, file_name, data


# ---------------------------------------------------------------- independent expectations


class InvalidValueError(Exception):
    pass


def as_int(value: Any) -> int:
    """The integer a JSON value stands for (the API's lax numbers), or InvalidValueError."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+(\.0*)?\s*", value):
        return int(value.strip().split(".")[0])
    raise InvalidValueError(repr(value))


def as_float(value: Any) -> float:
    if isinstance(value, (bool, int, float)):
        return float(value)
    raise InvalidValueError(repr(value))


def as_utc(value: Any) -> dt.datetime | None:
    """An ISO-8601 timestamp as naive UTC; None when it is not a plain ISO string (not compared)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def expected_players(doc: dict) -> dict[str, tuple]:
    out = {}
    for player in doc["Players"]:
        entries = player["PlayerTeamStats"]
        core = [e["Stats"]["CoreStats"] for e in entries]
        out[player["PlayerId"]] = (sum(as_int(c["Kills"]) for c in core), sum(as_int(c["Deaths"]) for c in core),
                                   sum(as_int(c["Score"]) for c in core), as_int(player["Outcome"]),
                                   as_int(player["Rank"]), as_int(player["LastTeamId"]))
    return out


def check_consistent(db: Path) -> None:
    """The player DB's typed rows are exactly what its stored documents say; keys unique; no orphans."""
    with duckdb.connect(str(db), read_only=True) as con:
        docs = defaultdict(dict)
        for kind, doc_id, body in rows(con, "SELECT kind, doc_id, body FROM raw.documents"):
            assert doc_id not in docs[kind]
            docs[kind][doc_id] = body
        for table, key in (("matches", "match_id"), ("match_players", "match_id, player_id"),
                           ("match_teams", "match_id, team_id"), ("match_skill", "match_id, player_id"),
                           ("highlight_events", "event_id"), ("match_history", "match_id"),
                           ("career_rank_snapshots", "snapshot_id"),
                           ("match_player_medals", "match_id, player_id, medal_id")):
            total, distinct = rows(con, f"SELECT count(*), count(DISTINCT ({key})) FROM raw.{table}")[0]
            assert total == distinct, f"duplicate keys in raw.{table}"
        # every typed row belongs to a stored document of its kind
        assert {m for (m,) in rows(con, "SELECT match_id FROM raw.matches")} == set(docs["match_stats"])
        for table in ("match_players", "match_teams", "match_player_medals", "match_player_personal_scores"):
            orphans = rows(con, f"SELECT count(*) FROM raw.{table} WHERE match_id NOT IN "
                                "(SELECT match_id FROM raw.matches)")
            assert orphans == [(0,)], f"orphan rows in raw.{table}"
        for table, kind in (("match_skill", "match_skill"), ("match_skill_team_mmrs", "match_skill"),
                            ("highlight_events", "highlight_events")):
            assert {m for (m,) in rows(con, f"SELECT DISTINCT match_id FROM raw.{table}")} <= set(docs[kind])
        assert {h for (h,) in rows(con, "SELECT DISTINCT history_doc_id FROM raw.match_history")} \
            <= set(docs["match_history"])
        assert {s for (s,) in rows(con, "SELECT snapshot_id FROM raw.career_rank_snapshots")} \
            == set(docs["career_rank"])

        # values equal the stored input
        for match_id, body in docs["match_stats"].items():
            doc = json.loads(body)
            assert str(UUID(doc["MatchId"])) == match_id
            start = as_utc(doc["MatchInfo"]["StartTime"])
            stored = rows(con, "SELECT start_time, player_count, team_count FROM raw.matches WHERE match_id = ?",
                          [match_id])[0]
            assert start is None or stored[0] == start
            assert stored[1:] == (len(doc["Players"]), len(doc["Teams"]))
            got = {r[0]: r[1:] for r in rows(con, "SELECT player_id, kills, deaths, score, outcome, rank, "
                                                  "last_team_id FROM raw.match_players WHERE match_id = ?",
                                             [match_id])}
            assert got == expected_players(doc)
        for match_id, body in docs["match_skill"].items():
            doc = json.loads(body)
            got = {r[0]: r[1:] for r in rows(con, "SELECT player_id, result_code, team_mmr FROM raw.match_skill "
                                                  "WHERE match_id = ?", [match_id])}
            assert set(got) == {v["Id"] for v in doc["Value"]}
            for value in doc["Value"]:
                result = value.get("Result")
                mmr = as_float(result["TeamMmr"]) if result is not None else None
                assert got[value["Id"]][0] == as_int(value["ResultCode"])
                assert same(got[value["Id"]][1], mmr)
        for match_id, body in docs["highlight_events"].items():
            if body.lstrip().startswith(b"{"):
                events = [(as_int(e["Xuid"]), as_int(e["TimeMs"])) for e in json.loads(body)["Events"]]
            else:
                events = [(e.xuid, e.time_ms) for e in spnkr_events.read(body, int(
                    rows(con, "SELECT any_value(film_major_version) FROM raw.highlight_events WHERE match_id = ?",
                         [match_id])[0][0]))]
            got = rows(con, "SELECT xuid, time_ms FROM raw.highlight_events WHERE match_id = ? ORDER BY event_index",
                       [match_id])
            assert got == events
        pages = [json.loads(body) for body in docs["match_history"].values()]
        for match_id, outcome, rank in rows(con, "SELECT match_id, outcome, rank FROM raw.match_history"):
            candidates = {(as_int(r["Outcome"]), as_int(r["Rank"])) for page in pages for r in page["Results"]
                          if str(UUID(r["MatchId"])) == match_id}
            assert (outcome, rank) in candidates
        for snapshot_id, body in docs["career_rank"].items():
            progress = json.loads(body)["CurrentProgress"]
            got = rows(con, "SELECT rank, partial_progress FROM raw.career_rank_snapshots WHERE snapshot_id = ?",
                       [snapshot_id])
            assert got == [(as_int(progress["Rank"]), as_int(progress["PartialProgress"]))]


# ---------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One player DB for the whole module, first loaded with every pristine document (all accepted)."""
    root = tmp_path_factory.mktemp("fuzz")
    source = root / "pristine"
    source.mkdir()
    for file_name, doc in DOCUMENTS.values():
        (source / file_name).write_text(json.dumps(doc), encoding="utf-8")
    (source / f"37_{SMALL_FILM_MATCH}.gzip").write_bytes(SMALL_FILM.read_bytes())
    result = load_matches(PLAYER, [source], xuid=OWNER_XUID, root=root / "data")
    assert [r.reason for r in result.rejections] == []
    check_consistent(result.database)
    return root


def load_one(root: Path, file_name: str, data: bytes, n: list[int]) -> tuple[Any, Path]:
    n[0] += 1
    folder = root / f"case{n[0]}"
    folder.mkdir()
    path = folder / file_name
    path.write_bytes(data)
    return load_matches(PLAYER, [folder], xuid=OWNER_XUID, root=root / "data"), path


def assert_loaded_or_rejected(result: Any, path: Path, data: bytes) -> bool:
    """The file was read once and either stored or rejected with a reason (kept in raw.rejected)."""
    assert result.read == 1
    counts = result.counts
    if result.rejections:
        assert counts.rejected == 1 and counts.loaded + counts.replaced + counts.unchanged == 0
        reason = result.rejections[0].reason
        assert reason and len(reason) > 10
        with duckdb.connect(str(result.database), read_only=True) as con:
            stored = rows(con, "SELECT reason, body FROM raw.rejected WHERE source_path = ? ORDER BY rejected_at DESC",
                          [str(path)])
        assert stored and stored[0][1] == data
        return False
    assert counts.loaded + counts.replaced + counts.unchanged + counts.older_ignored == 1
    return True


@FUZZ
@given(case=mutations())
def test_mutated_documents_are_loaded_exactly_or_rejected_with_a_reason(fuzz_root: Path, case) -> None:
    name, file_name, data = case
    result, path = load_one(fuzz_root, file_name, data, _counter)
    accepted = assert_loaded_or_rejected(result, path, data)
    event(f"{name}: {'accepted' if accepted else 'rejected'}")
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        assert not accepted, "a document that is not JSON was accepted"
    if accepted and result.counts.loaded + result.counts.replaced:
        with duckdb.connect(str(result.database), read_only=True) as con:
            # (a career snapshot without ObservedAt is one snapshot per file time: the same bytes may be stored
            # under several ids)
            stored = rows(con, "SELECT count(*) FROM raw.documents WHERE sha256 = ?", [result_sha(data)])[0][0]
            assert stored >= 1 if name == "career" else stored == 1
    check_consistent(result.database)


_counter = [0]


def result_sha(data: bytes) -> str:
    import hashlib
    return hashlib.sha256(data).hexdigest()


def _flip(data: bytes, positions: list[int], xor: int) -> bytes:
    out = bytearray(data)
    for p in positions:
        out[p % len(out)] ^= xor or 1
    return bytes(out)


@st.composite
def corrupt_chunks(draw: st.DrawFn) -> bytes:
    data = SMALL_FILM.read_bytes()
    how = draw(st.sampled_from(["truncate", "flip compressed", "flip inside", "truncate inside", "insert inside",
                                "empty", "random"]))
    if how == "truncate":
        return data[:draw(st.integers(0, len(data) - 1))]
    if how == "flip compressed":
        return _flip(data, draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=4)),
                     draw(st.integers(1, 255)))
    if how == "empty":
        return b""
    if how == "random":
        return draw(st.binary(max_size=300))
    inner = zlib.decompress(data)
    if how == "flip inside":
        inner = _flip(inner, draw(st.lists(st.integers(0, len(inner) - 1), min_size=1, max_size=4)),
                      draw(st.integers(1, 255)))
    elif how == "truncate inside":
        inner = inner[:draw(st.integers(0, len(inner) - 1))]
    else:
        at = draw(st.integers(0, len(inner)))
        inner = inner[:at] + draw(st.binary(min_size=1, max_size=64)) + inner[at:]
    return zlib.compress(inner)


@FUZZ
@given(data=corrupt_chunks())
def test_corrupt_film_chunks_are_rejected_or_loaded_exactly(fuzz_root: Path, data: bytes) -> None:
    result, path = load_one(fuzz_root, f"37_{SMALL_FILM_MATCH}.gzip", data, _counter)
    accepted = assert_loaded_or_rejected(result, path, data)
    event("accepted" if accepted else "rejected")
    if not accepted:
        assert "film highlight chunk" in result.rejections[0].reason
    check_consistent(result.database)


@pytest.mark.parametrize("corruption", ["truncated stream", "truncated events", "flipped bytes"])
def test_corrupt_large_film_chunk(tmp_path: Path, corruption: str) -> None:
    """The 640-event Oddball chunk, damaged three ways: never a crash, never a partial match."""
    data = BIG_FILM.read_bytes()
    if corruption == "truncated stream":
        data = data[:len(data) // 2]
    elif corruption == "truncated events":
        data = zlib.compress(zlib.decompress(data)[:700_000])
    else:
        data = zlib.compress(_flip(zlib.decompress(data), list(range(1000, 1_600_000, 97_001)), 0x5A))
    result, path = load_one(tmp_path, BIG_FILM.name, data, [0])
    assert_loaded_or_rejected(result, path, data)
    check_consistent(result.database)


HOSTILE_DOCS = {
    "int beyond BIGINT": ("Players", 0, "PlayerTeamStats", 0, "Stats", "CoreStats", "Kills"),
    "player listed twice": None,
    "team listed twice": None,
    "timestamp without UTC form": ("MatchInfo", "StartTime"),
    "xuid beyond BIGINT": ("Players", 0, "PlayerId"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_DOCS))
def test_documents_that_once_crashed_the_load_are_rejected_and_the_rest_loads(tmp_path: Path, case: str) -> None:
    """Regressions found by the fuzzer: each used to abort the whole load (overflow, duplicate key)."""
    doc = json.loads((RESPONSES / "get_match_stats.json").read_bytes())
    if case == "int beyond BIGINT":
        doc["Players"][0]["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Kills"] = 2**64
    elif case == "player listed twice":
        doc["Players"].append(doc["Players"][0])
    elif case == "team listed twice":
        doc["Teams"].append(doc["Teams"][0])
    elif case == "timestamp without UTC form":
        doc["MatchInfo"]["StartTime"] = "9999-12-31T23:59:59-14:00"
    else:
        doc["Players"][1]["PlayerId"] = "xuid(99999999999999999999)"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_bad.json").write_text(json.dumps(doc))
    (folder / "b_good.json").write_bytes((RESPONSES / "get_match_stats_ctf.json").read_bytes())
    result = load_matches(PLAYER, [folder], xuid=OWNER_XUID, root=tmp_path / "data")
    assert result.counts.loaded == 1 and len(result.rejections) == 1
    assert "fix or re-download" in result.rejections[0].reason
    check_consistent(player_db_path(PLAYER, tmp_path / "data"))


def test_overlapping_history_pages_in_one_load(tmp_path: Path) -> None:
    """Two history pages that share matches (downloaded on different days) load together."""
    page = json.loads((RESPONSES / "get_match_history.json").read_bytes())
    older = {**page, "Results": page["Results"][3:10], "ResultCount": 7}
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "history_1.json").write_text(json.dumps(page))
    (folder / "history_2.json").write_text(json.dumps(older))
    result = load_matches(PLAYER, [folder], xuid=OWNER_XUID, root=tmp_path / "data")
    assert result.rejections == [] and result.counts.loaded == 2
    with duckdb.connect(str(result.database), read_only=True) as con:
        assert rows(con, "SELECT count(*) FROM raw.match_history") == [(len(page["Results"]),)]
    check_consistent(result.database)
