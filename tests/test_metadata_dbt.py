"""Load every reference fixture, run a real `dbt build --target metadata`, check the models against the raw JSON."""

import datetime as dt
import os
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import REFERENCE, RESPONSES, ROOT, read_json

from loader.core.duckdb_files import require_metadata_db
from loader.core.errors import MetadataDatabaseMissingError
from loader.core.paths import metadata_db_path
from loader.ingest.load_reference import load_reference

DBT = ROOT / ".venv" / "bin" / "dbt"
API_FILES = [RESPONSES / f"get_{name}.json" for name in (
    "medal_metadata", "career_reward_track", "season_calendar", "csr_season_calendar", "playlist", "map",
    "map_mode_pair", "ugc_game_variant")]
CONTRACT_TABLES = {
    "medal_definitions": ["medal_id", "name_en", "name_fr", "description_en", "description_fr", "difficulty",
                          "difficulty_index", "type", "type_index", "sorting_weight", "personal_score",
                          "sprite_index", "film_medal_code"],
    "playlists": ["asset_id", "version_id", "name", "name_fr", "description", "is_ranked"],
    "maps": ["asset_id", "version_id", "name", "description"],
    "game_variants": ["asset_id", "version_id", "name", "description"],
    "map_mode_pairs": ["asset_id", "version_id", "name", "name_fr", "mode_category"],
    "career_ranks": ["rank", "title", "subtitle", "tier", "tier_type", "grade", "xp_required", "cumulative_xp",
                     "is_max_rank"],
    "seasons": ["season_key", "name", "start_time", "end_time", "kind"],
    "outcomes": ["code", "name"],
    "game_variant_categories": ["code", "name"],
    "player_types": ["code", "name"],
    "lifecycle_modes": ["code", "name"],
    "playlist_experiences": ["code", "name"],
}


def dbt_build(root: Path, tmp: Path) -> subprocess.CompletedProcess:
    """`dbt build --target metadata` exactly as from the shell; target/ and logs/ kept out of the checkout."""
    env = {**os.environ, "HALO_DATA_DIR": str(root), "DBT_TARGET_PATH": str(tmp / "target"),
           "DBT_LOG_PATH": str(tmp / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([str(DBT), "build", "--target", "metadata", "--profiles-dir", str(ROOT)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("metadata_dbt")
    root = tmp / "data"
    with pytest.raises(MetadataDatabaseMissingError, match=r"load reference data first \(halo load reference"):
        require_metadata_db(root)
    result = load_reference([*API_FILES, REFERENCE], root=root)
    assert result.rejections == [], [r.reason for r in result.rejections]
    with pytest.raises(MetadataDatabaseMissingError, match="has no metadata models yet"):
        require_metadata_db(root)
    run = dbt_build(root, tmp)
    assert run.returncode == 0, run.stdout[-4000:]
    assert require_metadata_db(root) == metadata_db_path(root)
    return metadata_db_path(root)


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.parametrize("table", CONTRACT_TABLES)
def test_contract_tables_in_main(built: Path, table: str) -> None:
    columns = [c for (c,) in query(built, "SELECT column_name FROM information_schema.columns "
                                          "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                                   [table])]
    assert [c for c in columns if c in CONTRACT_TABLES[table]] == CONTRACT_TABLES[table]


def test_medal_definitions(built: Path) -> None:
    doc = read_json(RESPONSES / "get_medal_metadata.json")
    # every medal of the metadata, and every medal only the name files know (with null difficulty and type)
    named = {int(k) for language in ("en", "fr") for k in read_json(REFERENCE / f"medals_{language}.json")}
    known = {m["nameId"] for m in doc["medals"]} | named
    assert query(built, "SELECT count(*), count(DISTINCT medal_id) FROM main.medal_definitions") == \
        [(len(known), len(known))]
    double_kill = next(m for m in doc["medals"] if m["name"]["value"] == "Double Kill")
    row = query(built, "SELECT medal_id, name_en, name_fr, description_en, description_fr, difficulty, "
                       "difficulty_index, type, type_index, sorting_weight, personal_score, sprite_index "
                       "FROM main.medal_definitions WHERE medal_id = ?", [double_kill["nameId"]])
    assert row == [(622331684, "Double Kill", double_kill["name"]["translations"]["fr-FR"],
                    double_kill["description"]["value"], double_kill["description"]["translations"]["fr-FR"],
                    doc["difficulties"][double_kill["difficultyIndex"]], double_kill["difficultyIndex"],
                    doc["types"][double_kill["typeIndex"]], double_kill["typeIndex"], double_kill["sortingWeight"],
                    double_kill["personalScore"], double_kill["spriteIndex"])]
    assert row[0][2] == "Double frag" and row[0][7] == "multikill"
    # every French name is the metadata's fr-FR name (the medals_fr.json file is only a fallback)
    french = dict(query(built, "SELECT medal_id, name_fr FROM main.medal_definitions "
                               "WHERE difficulty_index IS NOT NULL"))
    assert french == {m["nameId"]: m["name"]["translations"]["fr-FR"] for m in doc["medals"]}
    assert query(built, "SELECT data_type FROM information_schema.columns WHERE table_name = 'medal_definitions' "
                        "AND column_name = 'medal_id'") == [("BIGINT",)]


def test_career_ranks(built: Path) -> None:
    ranks = read_json(RESPONSES / "get_career_reward_track.json")["Ranks"]
    assert query(built, "SELECT count(*), min(rank), max(rank) FROM main.career_ranks") == [(272, 1, 272)]
    by_rank = {r["Rank"]: r for r in ranks}
    for number in (1, 143, 272):
        r = by_rank[number]
        expected = (number, r["RankTitle"]["value"], r["RankSubTitle"]["value"] or None,
                    r["RankTier"]["value"] or None, r["TierType"], r["RankGrade"], r["XpRequiredForRank"],
                    sum(by_rank[k]["XpRequiredForRank"] for k in range(1, number)), number == 272)
        assert query(built, "SELECT rank, title, subtitle, tier, tier_type, grade, xp_required, cumulative_xp, "
                            "is_max_rank FROM main.career_ranks WHERE rank = ?", [number]) == [expected]
    assert query(built, "SELECT title, subtitle, tier FROM main.career_ranks WHERE rank = 143") == [
        ("Lance Corporal", "Platinum", "1")]
    assert query(built, "SELECT cumulative_xp FROM main.career_ranks WHERE rank = 1") == [(0,)]
    assert query(built, "SELECT cumulative_xp FROM main.career_ranks WHERE rank = 272") == [
        (sum(r["XpRequiredForRank"] for r in ranks if r["Rank"] < 272),)]


def test_csr_season_containing_a_date(built: Path) -> None:
    seasons = read_json(RESPONSES / "get_csr_season_calendar.json")["Seasons"]
    when = dt.datetime(2023, 7, 1, tzinfo=dt.UTC)
    covering = [s for s in seasons
                if dt.datetime.fromisoformat(s["StartDate"]["ISO8601Date"]) <= when
                < dt.datetime.fromisoformat(s["EndDate"]["ISO8601Date"])]
    assert len(covering) == 1
    key = covering[0]["CsrSeasonFilePath"].rsplit("/", 1)[1].removesuffix(".json")
    assert key == "CsrSeason4-1"
    assert query(built, "SELECT season_key, start_time, end_time FROM main.seasons WHERE kind = 'csr' "
                        "AND start_time <= TIMESTAMP '2023-07-01' AND end_time > TIMESTAMP '2023-07-01'") == [
        (key, dt.datetime(2023, 6, 20, 17), dt.datetime(2023, 10, 17, 17))]
    assert query(built, "SELECT kind, count(*) FROM main.seasons GROUP BY kind ORDER BY kind") == [
        ("csr", len(seasons)), ("season", len(read_json(RESPONSES / "get_season_calendar.json")["Seasons"]))]


def test_playlists(built: Path) -> None:
    playlist = read_json(RESPONSES / "get_playlist.json")
    translations = read_json(REFERENCE / "Playlist_modes_translations.json")
    french = next(p["fr"] for p in translations["playlists"] if p["uuid"] == playlist["AssetId"])
    assert query(built, "SELECT asset_id, version_id, name, name_fr, description, is_ranked FROM main.playlists "
                        "WHERE name = 'Ranked Arena'") == [
        (playlist["AssetId"], playlist["VersionId"], playlist["PublicName"], french, playlist["Description"], True)]
    # playlists only the translation file knows keep their names
    assert query(built, "SELECT count(*) FROM main.playlists") == [(len(translations["playlists"]),)]
    assert query(built, "SELECT is_ranked FROM main.playlists WHERE name = 'Quick Play'") == [(False,)]


def test_maps_game_variants_map_mode_pairs(built: Path) -> None:
    map_doc = read_json(RESPONSES / "get_map.json")
    pair = read_json(RESPONSES / "get_map_mode_pair.json")
    variant = read_json(RESPONSES / "get_ugc_game_variant.json")
    playlist = read_json(RESPONSES / "get_playlist.json")
    assert query(built, "SELECT asset_id, version_id, name, description FROM main.maps WHERE asset_id = ?",
                 [map_doc["AssetId"]]) == [(map_doc["AssetId"], map_doc["VersionId"], "Forge Space", "")]
    assert sorted(query(built, "SELECT asset_id, name FROM main.maps")) == sorted(
        [(map_doc["AssetId"], map_doc["PublicName"]), (pair["MapLink"]["AssetId"], pair["MapLink"]["PublicName"])])
    assert sorted(query(built, "SELECT asset_id, version_id, name FROM main.game_variants")) == sorted(
        [(variant["AssetId"], variant["VersionId"], variant["PublicName"]),
         (pair["UgcGameVariantLink"]["AssetId"], pair["UgcGameVariantLink"]["VersionId"],
          pair["UgcGameVariantLink"]["PublicName"])])
    modes = {m["en"]: m for m in read_json(REFERENCE / "Playlist_modes_translations.json")["modes"]}
    expected = {}
    for asset in [pair, *playlist["RotationEntries"]]:
        mode = modes.get(asset["PublicName"])
        category = mode["category"] if mode else asset["PublicName"].split(":")[0]
        expected[asset["AssetId"]] = (asset["VersionId"], asset["PublicName"], mode and mode["fr"], category)
    rows = query(built, "SELECT asset_id, version_id, name, name_fr, mode_category FROM main.map_mode_pairs")
    assert {r[0]: r[1:] for r in rows} == expected
    assert any(fr is not None for _, _, fr, _ in expected.values())  # the fixture does exercise the translations


def test_seeds(built: Path) -> None:
    assert query(built, "SELECT code, name FROM main.outcomes WHERE code BETWEEN 1 AND 4 ORDER BY code") == [
        (1, "Tie"), (2, "Win"), (3, "Loss"), (4, "Did not finish")]
    assert query(built, "SELECT name FROM main.game_variant_categories WHERE code IN (6, 15, 18) ORDER BY code") == [
        ("Slayer",), ("Capture the Flag",), ("Oddball",)]
    assert query(built, "SELECT code, name FROM main.player_types WHERE code > 0 ORDER BY code") == [
        (1, "Human"), (2, "Bot")]
    assert query(built, "SELECT code FROM main.lifecycle_modes ORDER BY code") == [(1,), (3,), (7,)]
    assert query(built, "SELECT name FROM main.playlist_experiences WHERE code = 2") == [("Arena",)]


def test_player_target_attaches_it_read_only(built: Path) -> None:
    """What the player target does (`attach` read_only, alias meta): the contract tables read as meta.main.*."""
    with duckdb.connect(":memory:") as con:
        con.execute(f"ATTACH '{built}' AS meta (READ_ONLY)")
        assert con.execute("SELECT name FROM meta.main.maps WHERE name = 'Forge Space'").fetchall() == [
            ("Forge Space",)]
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("DELETE FROM meta.main.maps")
