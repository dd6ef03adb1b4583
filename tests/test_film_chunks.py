"""Film chunks: the version in the name is checked against what decodes, and the decoded events against their match.

Built from the real chunks in tests/fixtures/halo-api/film: `38_<oddball>.gzip` (version 38, 640 events) and
`highlight_events.gzip` (version 37, 6 events of the small match in film/match_stats.json), renamed or with one XUID
replaced. Expected values come from the fixtures' README, SPNKr's own test table (first event of the 38 chunk at
47053 ms; the 37 chunk's two kills) and the match stats read with plain json.
"""

import json
import re
import shutil
import zlib
from pathlib import Path

import duckdb
import pytest
from bitstring import BitArray, Bits
from conftest import FILM, OWNER_ID, OWNER_XUID, RESPONSES, read_json

from loader.cli.main import main as halo
from loader.core.paths import player_db_path
from loader.ingest.load_matches import load_matches

PLAYER = "Spartan001"
ODDBALL = RESPONSES / "get_match_stats_oddball.json"
SMALL = FILM / "match_stats.json"
ODDBALL_ID = read_json(ODDBALL)["MatchId"]
SMALL_ID = read_json(SMALL)["MatchId"]
CHUNK38 = FILM / f"38_{ODDBALL_ID}.gzip"
CHUNK37 = FILM / "highlight_events.gzip"
RENAME_HINT = ("it decodes as a chunk of version 30-38, 41: rename it {example}_{id}.gzip (or "
               "<FilmMajorVersion>_{id}.gzip with the version in the film's metadata, one of 30-38, 41)")
NOT_THEIRS = ("film highlight events of match {id} do not belong to that match: {problem}; the chunk is another "
              "match's (name it <FilmMajorVersion>_<its match id>.gzip) or corrupt: re-download the film of match {id}")


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def stage(tmp: Path, name: str, data: bytes) -> Path:
    folder = tmp / "in"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def load(tmp: Path, *paths: Path):
    return load_matches(PLAYER, list(paths), xuid=OWNER_XUID, root=tmp / "data")


def human_xuids(stats: Path) -> set[int]:
    return {int(p["PlayerId"][5:-1]) for p in read_json(stats)["Players"] if p["PlayerId"].startswith("xuid(")}


def owner_core(stats: Path) -> dict:
    me = next(p for p in read_json(stats)["Players"] if p["PlayerId"] == OWNER_ID)
    (entry,) = me["PlayerTeamStats"]
    return entry["Stats"]["CoreStats"]


def test_the_good_chunk_still_loads_its_640_events(tmp_path: Path) -> None:
    result = load(tmp_path, CHUNK38, ODDBALL)
    assert [r.reason for r in result.rejections] == []
    assert result.counts.loaded_by_kind == {"highlight_events": 1, "match_stats": 1}
    db = player_db_path(PLAYER, tmp_path / "data")
    rows = query(db, "SELECT event_type, count(*), min(film_major_version), max(film_major_version) "
                     "FROM raw.highlight_events WHERE match_id = ? GROUP BY 1 ORDER BY 1", [ODDBALL_ID])
    assert rows == [("death", 203, 38, 38), ("kill", 203, 38, 38), ("medal", 85, 38, 38), ("mode", 149, 38, 38)]
    xuids = {x for (x,) in query(db, "SELECT DISTINCT xuid FROM raw.highlight_events")}
    assert xuids == human_xuids(ODDBALL)
    gamertags = [g for (g,) in query(db, "SELECT DISTINCT gamertag FROM raw.highlight_events")]
    assert len(gamertags) == 8 and all(re.fullmatch(r"Spartan\d{3}", g) for g in gamertags)


@pytest.mark.parametrize("version", [39, 40])
def test_a_chunk_named_with_the_other_layout_is_rejected_with_the_rename(tmp_path: Path, version: int) -> None:
    path = stage(tmp_path, f"{version}_{ODDBALL_ID}.gzip", CHUNK38.read_bytes())
    result = load(tmp_path, path, ODDBALL)
    reason = (f"film highlight chunk named version {version} does not decode as version {version} (event 0 (xuid "
              f"{OWNER_XUID}, kill at 47053 ms) has the gamertag 'n001\\x00\\x00\\x00\\x00\\x00\\x00\\x03', not "
              f"printable text of 1-16 characters); " + RENAME_HINT.format(example=38, id=ODDBALL_ID))
    assert [(r.source.path, r.kind, r.match_id, r.reason) for r in result.rejections] == [
        (path, "highlight_events", ODDBALL_ID, reason)]
    db = player_db_path(PLAYER, tmp_path / "data")
    assert query(db, "SELECT count(*) FROM raw.highlight_events") == [(0,)]
    assert query(db, "SELECT kind, match_id, reason, body FROM raw.rejected") == [
        ("highlight_events", ODDBALL_ID, reason, CHUNK38.read_bytes())]
    assert query(db, "SELECT count(*) FROM raw.matches") == [(1,)]  # the stats beside it are loaded


@pytest.mark.parametrize(("version", "example"), [(0, 30), (1, 30), (99, 41), (9999, 41)])
def test_a_version_spnkr_does_not_read_is_rejected(tmp_path: Path, version: int, example: int) -> None:
    path = stage(tmp_path, f"{version}_{ODDBALL_ID}.gzip", CHUNK38.read_bytes())
    result = load(tmp_path, path)
    reason = (f"film highlight chunk named version {version}: SPNKr reads film major versions 30-41 only; "
              + RENAME_HINT.format(example=example, id=ODDBALL_ID))
    assert [r.reason for r in result.rejections] == [reason]
    db = player_db_path(PLAYER, tmp_path / "data")
    assert query(db, "SELECT count(*) FROM raw.highlight_events") == [(0,)]
    assert query(db, "SELECT reason FROM raw.rejected") == [(reason,)]


@pytest.mark.parametrize("version", [30, 37, 41])
def test_a_version_of_the_same_layout_is_taken_at_its_word(tmp_path: Path, version: int) -> None:
    """Versions 30-38 and 41 decode alike: the bytes cannot tell them apart, so the name's version is stored."""
    path = stage(tmp_path, f"{version}_{ODDBALL_ID}.gzip", CHUNK38.read_bytes())
    result = load(tmp_path, path, ODDBALL)
    assert result.rejections == []
    db = player_db_path(PLAYER, tmp_path / "data")
    assert query(db, "SELECT count(*), min(film_major_version), max(film_major_version) "
                     "FROM raw.highlight_events") == [(640, version, version)]


def test_the_cli_exits_rejected_and_names_the_file(tmp_path: Path, data_root: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = stage(tmp_path, f"39_{ODDBALL_ID}.gzip", CHUNK38.read_bytes())
    code = halo(["load", "matches", "--player", PLAYER, "--xuid", str(OWNER_XUID), str(path)])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1
    assert f"39_{ODDBALL_ID}.gzip" in out and f"rename it 38_{ODDBALL_ID}.gzip" in out


def test_another_matchs_chunk_is_rejected_when_the_stats_come_in_the_same_load(tmp_path: Path) -> None:
    path = stage(tmp_path, f"37_{ODDBALL_ID}.gzip", CHUNK37.read_bytes())
    result = load(tmp_path, path, ODDBALL)
    kills = owner_core(ODDBALL)["Kills"]
    problem = (f"it has 2 kill events of xuid({OWNER_XUID}), whose kills in the match's stats are {kills} "
               f"(at most {max(2, kills // 10)} may differ)")
    reason = NOT_THEIRS.format(id=ODDBALL_ID, problem=problem)
    assert [(r.source.path, r.kind, r.match_id, r.reason) for r in result.rejections] == [
        (path, "highlight_events", ODDBALL_ID, reason)]
    assert (result.counts.loaded, result.counts.rejected, result.counts.loaded_by_kind) == (1, 1, {"match_stats": 1})
    db = player_db_path(PLAYER, tmp_path / "data")
    assert query(db, "SELECT count(*) FROM raw.highlight_events") == [(0,)]
    assert query(db, "SELECT kind, doc_id FROM raw.documents") == [("match_stats", ODDBALL_ID)]
    assert query(db, "SELECT source_path, kind, match_id, reason, body FROM raw.rejected") == [
        (str(path), "highlight_events", ODDBALL_ID, reason, CHUNK37.read_bytes())]


def test_a_stored_chunk_is_rejected_when_its_matchs_stats_come_later(tmp_path: Path) -> None:
    path = stage(tmp_path, f"37_{ODDBALL_ID}.gzip", CHUNK37.read_bytes())
    first = load(tmp_path, path)  # no stats yet: nothing to hold it against
    assert first.rejections == [] and first.counts.loaded_by_kind == {"highlight_events": 1}
    second = load(tmp_path, ODDBALL)
    assert [(r.match_id, r.reason.split(":")[0]) for r in second.rejections] == [
        (ODDBALL_ID, f"film highlight events of match {ODDBALL_ID} do not belong to that match")]
    assert second.counts.loaded_by_kind == {"match_stats": 1} and second.counts.rejected == 1
    db = player_db_path(PLAYER, tmp_path / "data")
    assert query(db, "SELECT count(*) FROM raw.highlight_events") == [(0,)]
    assert query(db, "SELECT source_path, body FROM raw.rejected") == [(str(path), CHUNK37.read_bytes())]
    third = load(tmp_path, path)  # the same chunk again: still not that match's
    assert [r.match_id for r in third.rejections] == [ODDBALL_ID]
    assert (third.counts.loaded, third.counts.unchanged) == (0, 0)
    assert query(db, "SELECT count(*) FROM raw.highlight_events") == [(0,)]


def test_a_chunk_naming_players_not_in_the_match_is_rejected(tmp_path: Path) -> None:
    stranger = 2533274900000999
    assert stranger not in human_xuids(SMALL)
    # the XUIDs are 64-bit little-endian at any bit offset (not byte-aligned): replaced as bits
    bits = BitArray(bytes=zlib.decompress(CHUNK37.read_bytes()))
    owner, other = Bits(uintle=OWNER_XUID, length=64), Bits(uintle=stranger, length=64)
    assert len(list(bits.findall(owner))) >= 6  # one per event at least
    bits.replace(owner, other)
    assert list(bits.findall(owner)) == []
    path = stage(tmp_path, f"37_{SMALL_ID}.gzip", zlib.compress(bits.tobytes()))
    alone = load(tmp_path / "alone", path)  # the chunk itself decodes fine
    assert alone.rejections == []
    result = load(tmp_path, path, SMALL)
    problem = (f"6 of its 6 events name 1 XUID(s) that are not among the {len(human_xuids(SMALL))} human players of "
               f"the match in its stats (e.g. xuid({stranger}))")
    assert [r.reason for r in result.rejections] == [NOT_THEIRS.format(id=SMALL_ID, problem=problem)]
    db = player_db_path(PLAYER, tmp_path / "data")
    assert query(db, "SELECT count(*) FROM raw.highlight_events") == [(0,)]


def test_the_small_chunk_with_its_own_match_loads(tmp_path: Path) -> None:
    path = stage(tmp_path, f"37_{SMALL_ID}.gzip", CHUNK37.read_bytes())
    result = load(tmp_path, path, SMALL)
    assert result.rejections == []
    db = player_db_path(PLAYER, tmp_path / "data")
    assert query(db, "SELECT count(*), min(xuid), max(xuid) FROM raw.highlight_events") == [(6, OWNER_XUID,
                                                                                             OWNER_XUID)]


def test_an_event_after_the_match_is_rejected(tmp_path: Path) -> None:
    duration = read_json(SMALL)["MatchInfo"]["Duration"]  # PT1M16.3848228S
    assert duration == "PT1M16.3848228S"
    events = {"MatchId": SMALL_ID, "FilmMajorVersion": 37, "Events": [
        {"Xuid": OWNER_XUID, "Gamertag": "Spartan001", "TypeHint": 50, "IsMedal": False, "EventType": "kill",
         "TimeMs": 300_000, "MedalValue": 0, "MedalName": None}]}
    path = stage(tmp_path, "events.json", json.dumps(events).encode())
    result = load(tmp_path, path, SMALL)
    problem = "an event at 300.000 s comes after the match's end (76.385 s in its stats, plus 120 s)"
    assert [r.reason for r in result.rejections] == [NOT_THEIRS.format(id=SMALL_ID, problem=problem)]


def test_the_good_chunks_load_beside_the_bad_ones(tmp_path: Path) -> None:
    good = [shutil.copy(CHUNK38, tmp_path / CHUNK38.name), stage(tmp_path, f"37_{SMALL_ID}.gzip", CHUNK37.read_bytes())]
    bad = stage(tmp_path, f"40_{ODDBALL_ID.replace('6', '7')}.gzip", CHUNK38.read_bytes())
    result = load(tmp_path, *good, bad, ODDBALL, SMALL)
    assert [r.source.path for r in result.rejections] == [bad]
    db = player_db_path(PLAYER, tmp_path / "data")
    assert query(db, "SELECT match_id, count(*) FROM raw.highlight_events GROUP BY 1 ORDER BY 1") == sorted(
        [(ODDBALL_ID, 640), (SMALL_ID, 6)])
