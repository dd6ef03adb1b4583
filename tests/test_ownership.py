"""Only the owner's documents become the owner's: career rank and skill are checked against `raw.owner`.

What names a player, per kind (see `loader.ingest.load_matches.check_owner`): match stats and skill name the
match's players (the owner must be one of them, the others' rows are match data); a career-rank snapshot names
the player it is of (`SpartanId`); history pages name nobody; film events name every player of the match.
Expected values are read from the real samples with plain `json`.
"""

import copy
import json
import os
from pathlib import Path

import duckdb
import pytest
from conftest import OWNER_ID, OWNER_XUID, REFERENCE, RESPONSES, built_metadata, read_json
from test_export_restore import halo
from test_marts import REFERENCE_API_FILES

from loader.core.paths import player_db_path
from loader.ingest.load_matches import load_matches

PLAYER = "Spartan001"
SLAYER = RESPONSES / "get_match_stats.json"
SLAYER_ID = read_json(SLAYER)["MatchId"]
# a player of the slayer match on the other team (not the owner)
OTHER_ID = next(p["PlayerId"] for p in read_json(SLAYER)["Players"]
                if p["PlayerId"] != OWNER_ID and p["LastTeamId"] != 1)
OTHER_XUID = int(OTHER_ID[5:-1])
CAREER = read_json(RESPONSES / "get_player_career_rank.json")
SKILL = read_json(RESPONSES / "get_match_skill.json")


def write(path: Path, doc: dict, mtime: float = 1_738_000_000) -> Path:
    path.write_text(json.dumps(doc))
    os.utime(path, (mtime, mtime))
    return path


def career(spartan_id: str, rank: int, observed_at: str) -> dict:
    return {**CAREER, "CurrentProgress": {**CAREER["CurrentProgress"], "Rank": rank}, "SpartanId": spartan_id,
            "ObservedAt": observed_at}


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The slayer match, the owner's career rank and skill, another player's career rank (newer: it would be the
    "latest rank") and a skill document of the same match without the owner; loaded and built once."""
    tmp = tmp_path_factory.mktemp("ownership")
    root, files = tmp / "data", tmp / "files"
    files.mkdir()
    mine = write(files / "career_rank_mine.json", career(OWNER_ID, CAREER["CurrentProgress"]["Rank"],
                                                         "2025-02-01T00:00:00Z"))
    theirs = write(files / "career_rank_theirs.json", career(OTHER_ID, 12, "2025-03-01T00:00:00Z"))
    other_skill = copy.deepcopy(SKILL)
    other_skill["Value"][0]["Id"] = OTHER_ID
    other_skill["MatchId"] = SLAYER_ID
    skill_theirs = write(files / "skill_theirs.json", other_skill)
    # the owner's skill, plus a skill entry of another player of the match (match data)
    both = copy.deepcopy(SKILL)
    entry = copy.deepcopy(SKILL["Value"][0])
    entry["Id"] = OTHER_ID
    entry["Result"]["TeamId"] = 1
    entry["Result"]["RankRecap"]["PreMatchCsr"]["Value"] = 900
    entry["Result"]["RankRecap"]["PostMatchCsr"]["Value"] = 880
    both["Value"].append(entry)
    skill_both = write(files / f"skill_{SLAYER_ID}.json", both)

    built_metadata(root, *REFERENCE_API_FILES, REFERENCE)
    result = load_matches(PLAYER, [SLAYER, mine, theirs, skill_theirs, skill_both], xuid=OWNER_XUID, root=root)
    build = halo(root, "build", "--player", PLAYER)
    assert build.returncode == 0, build.stdout + build.stderr
    return {"db": player_db_path(PLAYER, root), "result": result, "theirs": theirs, "skill_theirs": skill_theirs}


def test_another_players_career_rank_is_rejected_naming_both_xuids(built: dict) -> None:
    reasons = {r.source.path.name: r.reason for r in built["result"].rejections}
    assert set(reasons) == {"career_rank_theirs.json", "skill_theirs.json"}
    reason = reasons["career_rank_theirs.json"]
    assert f"xuid({OTHER_XUID})" in reason and f"xuid({OWNER_XUID})" in reason
    assert query(built["db"], "SELECT body, kind FROM raw.rejected WHERE source_path = ?",
                 [str(built["theirs"])]) == [(built["theirs"].read_bytes(), "career_rank")]


def test_only_the_owners_career_rank_is_stored_and_shown(built: dict) -> None:
    progress = CAREER["CurrentProgress"]
    assert query(built["db"], "SELECT spartan_id, rank, partial_progress FROM raw.career_rank_snapshots") == \
        [(OWNER_ID, progress["Rank"], progress["PartialProgress"])]
    assert query(built["db"], "SELECT rank, xp_in_rank FROM career_progression") == \
        [(progress["Rank"], progress["PartialProgress"])]
    assert query(built["db"], "SELECT count(*) FROM raw.documents WHERE kind = 'career_rank'") == [(1,)]


def test_a_skill_document_without_the_owner_is_rejected(built: dict) -> None:
    reason = next(r.reason for r in built["result"].rejections if r.source.path.name == "skill_theirs.json")
    assert f"xuid({OWNER_XUID})" in reason and SLAYER_ID in reason and OTHER_ID in reason
    assert query(built["db"], "SELECT body FROM raw.rejected WHERE source_path = ?",
                 [str(built["skill_theirs"])]) == [(built["skill_theirs"].read_bytes(),)]


def test_other_players_skill_entries_are_match_data_not_the_owners(built: dict) -> None:
    """Both entries of the owner's skill document are stored; the marts take the owner's."""
    recap = SKILL["Value"][0]["Result"]["RankRecap"]
    assert query(built["db"], "SELECT player_id, pre_match_csr, post_match_csr FROM raw.match_skill "
                              "ORDER BY player_id") == \
        sorted([(OWNER_ID, recap["PreMatchCsr"]["Value"], recap["PostMatchCsr"]["Value"]), (OTHER_ID, 900, 880)])
    assert query(built["db"], "SELECT pre_match_csr, post_match_csr FROM match_stats WHERE match_id = ?",
                 [SLAYER_ID]) == [(recap["PreMatchCsr"]["Value"], recap["PostMatchCsr"]["Value"])]


@pytest.mark.parametrize("spartan_id", [f"xuid({OTHER_XUID})", str(OTHER_XUID), f"XUID({OTHER_XUID})"])
def test_career_rank_of_another_xuid_in_any_spelling_is_rejected(tmp_path: Path, spartan_id: str) -> None:
    theirs = write(tmp_path / "career_rank.json", career(spartan_id, 12, "2025-03-01T00:00:00Z"))
    result = load_matches(PLAYER, [theirs], xuid=OWNER_XUID, root=tmp_path / "data")
    assert [r.kind for r in result.rejections] == ["career_rank"]
    assert f"xuid({OTHER_XUID})" in result.rejections[0].reason
    assert query(player_db_path(PLAYER, tmp_path / "data"), "SELECT count(*) FROM raw.career_rank_snapshots") == [(0,)]


def test_career_rank_without_a_xuid_is_the_owners(tmp_path: Path) -> None:
    """No SpartanId, or the sample's id that is no XUID (`spartan-1234`): nothing names another player."""
    plain = {k: v for k, v in CAREER.items() if k != "SpartanId"}
    files = [write(tmp_path / "no_id.json", plain), write(tmp_path / "sample.json", CAREER, 1_738_000_100)]
    result = load_matches(PLAYER, files, xuid=OWNER_XUID, root=tmp_path / "data")
    assert result.rejections == []
    rows = query(player_db_path(PLAYER, tmp_path / "data"), "SELECT spartan_id, rank FROM raw.career_rank_snapshots "
                                                            "ORDER BY observed_at")
    assert rows == [(None, CAREER["CurrentProgress"]["Rank"]), (CAREER["SpartanId"], CAREER["CurrentProgress"]["Rank"])]


def test_career_rank_of_a_xuid_too_long_for_a_number_is_rejected(tmp_path: Path) -> None:
    """5,000 digits (more than Python's int() converts from text): rejected as another player's, no crash."""
    theirs = write(tmp_path / "career_rank.json", career(f"xuid({'9' * 5000})", 12, "2025-03-01T00:00:00Z"))
    result = load_matches(PLAYER, [theirs], xuid=OWNER_XUID, root=tmp_path / "data")
    assert [r.kind for r in result.rejections] == ["career_rank"]
    assert f"xuid({'9' * 40})" in result.rejections[0].reason and f"xuid({OWNER_XUID})" in result.rejections[0].reason
