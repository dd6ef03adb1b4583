"""Newest wins everywhere, whatever the order: match-history rows follow the newest page that holds them.

A history row is keyed by its match and several pages hold the same match; the row follows the page whose file
is newest (modification time, then the larger SHA-256 of the bytes, as every other document's copies). Loading
the same files in any order, split into any number of loads, gives the same warehouse (raw and marts) as one
load, and so does `halo export` -> reload. Expected rows are read from the real samples with plain `json`.
"""

import copy
import hashlib
import json
import os
from pathlib import Path

import duckdb
import pytest
from conftest import FILM, FIXTURES, OWNER_XUID, REFERENCE, RESPONSES, built_metadata, read_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_export_restore import contents, halo
from test_marts import REFERENCE_API_FILES

from loader.core.paths import player_db_path
from loader.ingest import load_matches as load_module
from loader.ingest.load_matches import load_matches
from loader.warehouse.build import build_players

HISTORY = read_json(RESPONSES / "get_match_history.json")
T0 = 1_738_000_000


def write(path: Path, doc: dict | bytes, mtime: float) -> Path:
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    os.utime(path, (mtime, mtime))
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def changed_page(index: int) -> dict:
    """The sample page with result `index`'s outcome and rank changed (another copy of the same matches)."""
    page = copy.deepcopy(HISTORY)
    result = page["Results"][index]
    result["Outcome"], result["Rank"] = (2 if result["Outcome"] != 2 else 3), result["Rank"] + 1
    return page


def history_rows(root: Path, player: str = "Spartan001") -> dict[str, tuple]:
    with duckdb.connect(str(player_db_path(player, root)), read_only=True) as con:
        return {m: (doc, outcome, rank) for m, doc, outcome, rank in
                con.execute("SELECT match_id, history_doc_id, outcome, rank FROM raw.match_history").fetchall()}


def build(root: Path, *players: str) -> None:
    """`halo build --player PLAYERS` in this process (build_players, one parse for all): the warehouse is the
    subject here, not the command (tests/test_one_load.py, test_resources.py and others run `halo build`)."""
    metadata, outcomes = build_players(list(players), root)
    assert metadata is None or metadata.success, metadata.errors
    assert [(o.name, o.success) for o in outcomes] == [(player, True) for player in players], \
        [o.errors for o in outcomes]


def expected_rows(page: dict, doc_id: str) -> dict[str, tuple]:
    return {r["MatchId"]: (doc_id, r["Outcome"], r["Rank"]) for r in page["Results"]}


# ---------------------------------------------------------------------------------------------- newest page wins


@pytest.mark.parametrize("loads", ["one folder", "new then old", "old then new"])
def test_the_newest_page_wins_whatever_the_file_names_and_load_order(tmp_path: Path, loads: str) -> None:
    """The newer page sorts first by name (`a_new` < `z_old`): before, the old page, last in path order, won."""
    folder = tmp_path / "pages"
    folder.mkdir()
    new = write(folder / "a_new.json", HISTORY, T0 + 3600)
    old = write(folder / "z_old.json", changed_page(0), T0)
    root = tmp_path / "data"
    batches = {"one folder": [[folder]], "new then old": [[new], [old]], "old then new": [[old], [new]]}[loads]
    for paths in batches:
        assert load_matches("Spartan001", paths, xuid=OWNER_XUID, root=root).rejections == []
    assert history_rows(root) == expected_rows(HISTORY, sha(new))


@pytest.mark.parametrize("order", ["one load", "small first", "large first"])
def test_pages_of_the_same_time_are_ordered_by_their_bytes(tmp_path: Path, order: str) -> None:
    """Same modification time, different bytes: the page with the larger SHA-256 wins, in every order."""
    a = write(tmp_path / "a.json", HISTORY, T0)
    b = write(tmp_path / "b.json", changed_page(3), T0)
    small, large = sorted([a, b], key=sha)
    root = tmp_path / "data"
    batches = {"one load": [[large, small]], "small first": [[small], [large]], "large first": [[large], [small]]}
    for paths in batches[order]:
        load_matches("Spartan001", paths, xuid=OWNER_XUID, root=root)
    page = HISTORY if large == a else changed_page(3)
    assert history_rows(root) == expected_rows(page, sha(large))


def test_a_partial_newer_page_wins_only_its_matches(tmp_path: Path) -> None:
    """A newer page holding 5 of the 25 matches takes those 5; the other 20 follow the older full page."""
    full = write(tmp_path / "b_full.json", HISTORY, T0)
    partial_page = copy.deepcopy(HISTORY)
    partial_page["Results"] = [changed_page(i)["Results"][i] for i in range(5)]
    partial_page["Count"] = partial_page["ResultCount"] = 5
    partial = write(tmp_path / "a_partial.json", partial_page, T0 + 60)
    root = tmp_path / "data"
    load_matches("Spartan001", [partial], xuid=OWNER_XUID, root=root)
    load_matches("Spartan001", [full], xuid=OWNER_XUID, root=root)
    expected = expected_rows(HISTORY, sha(full)) | expected_rows(partial_page, sha(partial))
    assert history_rows(root) == expected


# ---------------------------------------------------------------------------------------------- any order, any split


def comparable(db: Path, gamertag: str) -> dict[str, list[tuple]]:
    """Raw and mart rows (load times and paths aside, see test_export_restore), the player's gamertag (each
    warehouse here is another player of the same XUID) as `<owner>`; `raw.owner` names the player."""
    out = {f"raw.{t}": rows for t, rows in contents(db, "raw").items() if t != "owner"}
    out.update({f"main.{t}": sorted((tuple("<owner>" if v == gamertag else v for v in row) for row in rows), key=repr)
                for t, rows in contents(db, "main").items()})
    return out


def raw_only(state: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    return {t: rows for t, rows in state.items() if t.startswith("raw.")}


EXPECTED: dict[str, list[tuple]] = {}  # the one-load warehouse of `corpus` (kept out of hypothesis' reprs)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Overlapping copies of the real samples: three history pages (one partial, two of the same time), two copies
    of the slayer match (a newer one, and one of the same time with other bytes), skill, film, two career-rank
    snapshots, a broken file; a data dir with the reference loaded and the one-load warehouse built."""
    tmp = tmp_path_factory.mktemp("load_order")
    files = tmp / "files"
    files.mkdir()
    slayer = read_json(RESPONSES / "get_match_stats.json")
    slayer_id = slayer["MatchId"]
    newer_slayer = copy.deepcopy(slayer)
    newer_slayer["Players"][0]["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Kills"] += 1
    twin_slayer = copy.deepcopy(newer_slayer)
    twin_slayer["Players"][0]["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Deaths"] += 1
    partial = copy.deepcopy(HISTORY)
    partial["Results"] = [changed_page(i)["Results"][i] for i in range(0, 25, 3)]
    partial["Count"] = partial["ResultCount"] = len(partial["Results"])
    paths = [
        write(files / "page_full.json", HISTORY, T0),
        write(files / "page_changed.json", changed_page(1), T0 + 100),
        write(files / "page_twin.json", changed_page(2), T0 + 100),
        write(files / "page_partial.json", partial, T0 + 200),
        write(files / "slayer.json", slayer, T0),
        write(files / "slayer_newer.json", newer_slayer, T0 + 50),
        write(files / "slayer_twin.json", twin_slayer, T0 + 50),
        write(files / f"skill_{slayer_id}.json", (RESPONSES / "get_match_skill.json").read_bytes(), T0),
        *(write(files / p.name, p.read_bytes(), T0 + 10) for p in
          (RESPONSES / "get_match_stats_ctf.json", RESPONSES / "get_match_stats_oddball.json",
           RESPONSES / "get_match_stats_zones.json")),
        write(files / "38_63391382-6b88-43f9-9ff4-6313404c419c.gzip",
              (FILM / "38_63391382-6b88-43f9-9ff4-6313404c419c.gzip").read_bytes(), T0),
        write(files / "career_a.json", {**read_json(RESPONSES / "get_player_career_rank.json"),
                                        "SpartanId": f"xuid({OWNER_XUID})"}, T0),
        write(files / "career_b.json", {"CurrentProgress": {"Rank": 12, "PartialProgress": 300,
                                                            "HasReachedMaxRank": False}}, T0 + 300),
        write(files / "broken.json", b'{"MatchId": "truncated', T0),
    ]
    root = tmp / "data"
    built_metadata(root, *REFERENCE_API_FILES, REFERENCE)
    load_matches("Reference", paths, xuid=OWNER_XUID, root=root)
    build(root, "Reference")
    EXPECTED.clear()
    EXPECTED.update(comparable(player_db_path("Reference", root), "Reference"))
    return {"root": root, "paths": paths, "builds": {"count": 0}, "examples": {"count": 0}}


def test_the_corpus_overlaps_as_described(corpus: dict) -> None:
    """The reference load itself: the partial page (newest) holds its 9 matches, the two pages of T0+100 share the
    rest by their SHA-256, the newer slayer copy of the larger SHA-256 is stored, the broken file rejected."""
    expected = EXPECTED
    by_name = {p.name: p for p in corpus["paths"]}
    twins = max(("page_changed.json", "page_twin.json"), key=lambda n: sha(by_name[n]))
    twin_page = changed_page(1) if twins == "page_changed.json" else changed_page(2)
    rows = expected_rows(twin_page, sha(by_name[twins]))
    partial = [changed_page(i)["Results"][i] for i in range(0, 25, 3)]
    rows.update({r["MatchId"]: (sha(by_name["page_partial.json"]), r["Outcome"], r["Rank"]) for r in partial})
    with duckdb.connect(str(player_db_path("Reference", corpus["root"])), read_only=True) as con:
        stored = {m: (d, o, r) for m, d, o, r in con.execute(
            "SELECT match_id, history_doc_id, outcome, rank FROM raw.match_history").fetchall()}
        slayer = con.execute("SELECT sha256 FROM raw.documents WHERE kind = 'match_stats' AND doc_id = ?",
                             [read_json(RESPONSES / "get_match_stats.json")["MatchId"]]).fetchall()
    assert stored == rows
    assert slayer == [(max(sha(by_name["slayer_newer.json"]), sha(by_name["slayer_twin.json"])),)]
    assert [r[0] for r in expected["raw.rejected"]] == [sha(by_name["broken.json"])]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_order_and_any_split_gives_the_same_warehouse(corpus: dict, data: st.DataObject) -> None:
    """Shuffled, split into 1-4 loads, batches of 1-3 files or one batch: the same raw tables as one load; the first
    example and every raw state not seen before are built and their marts compared too."""
    paths = data.draw(st.permutations(corpus["paths"]), label="order")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(paths) - 1), max_size=3), label="split"))
    batch_size = data.draw(st.sampled_from([1, 3, 2000]), label="batch size")
    corpus["examples"]["count"] += 1
    player = f"Order {corpus['examples']['count']}"
    root = corpus["root"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(load_module, "BATCH_SIZE", batch_size)
        for start, end in zip([0, *cuts], [*cuts, len(paths)]):
            load_matches(player, paths[start:end], xuid=OWNER_XUID, root=root)
    db = player_db_path(player, root)
    raw = {f"raw.{t}": rows for t, rows in contents(db, "raw").items() if t != "owner"}
    assert raw == raw_only(EXPECTED)
    if corpus["builds"]["count"] == 0:  # the same raw state as the reference: built once to prove the marts follow
        corpus["builds"]["count"] += 1
        build(root, player)
        assert comparable(db, player) == EXPECTED


def test_export_then_reload_of_overlapping_pages_is_identical(corpus: dict, tmp_path: Path) -> None:
    """The original load passes the newest page last (so path order and time agree); the export names pages by
    their SHA-256, and here the older page's sorts last: the reload must still follow the newest."""
    root = corpus["root"]
    new = write(tmp_path / "new.json", changed_page(24), T0 + 3600)
    old = next(p for p in (write(tmp_path / f"old_{i}.json", changed_page(i), T0) for i in range(24))
               if sha(p)[:16] > sha(new)[:16])
    others = [p for p in corpus["paths"] if not p.name.startswith("page_")]
    others += [RESPONSES / "get_service_record.json", RESPONSES / "get_playlist_csr.json",
               FIXTURES / "profile" / "get_users_by_id.json"]
    assert load_matches("Export One", [*others, old, new], xuid=OWNER_XUID, root=root).counts.loaded
    backup = tmp_path / "backup"
    assert halo(root, "export", "--player", "Export One", str(backup)).returncode == 0
    restored = halo(root, "load", "matches", "--player", "Export Two", "--xuid", str(OWNER_XUID), str(backup))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    build(root, "Export One", "Export Two")
    one = comparable(player_db_path("Export One", root), "Export One")
    two = comparable(player_db_path("Export Two", root), "Export Two")
    one.pop("raw.rejected"), two.pop("raw.rejected")  # never reloaded (the backup keeps their bytes)
    assert set(one) == set(two)
    for table in one:
        assert one[table], f"{table} is empty: the comparison would prove nothing"
        assert one[table] == two[table], f"{table} differs after export -> reload"
    assert history_rows(root, "Export Two") == expected_rows(changed_page(24), sha(new))
