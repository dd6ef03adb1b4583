"""Reference loader: every reference fixture into a real metadata DuckDB, values checked against the raw JSON."""

import json
import os
from pathlib import Path

import duckdb
import pytest
from conftest import REFERENCE, RESPONSES, read_json

from loader.cli.main import main as halo
from loader.core.paths import metadata_db_path
from loader.ingest.documents import read_source
from loader.ingest.load_reference import load_reference
from loader.ingest.readers import read_document

MEDALS = RESPONSES / "get_medal_metadata.json"
CAREER = RESPONSES / "get_career_reward_track.json"
SEASONS = RESPONSES / "get_season_calendar.json"
CSR_SEASONS = RESPONSES / "get_csr_season_calendar.json"
PLAYLIST = RESPONSES / "get_playlist.json"
MAP = RESPONSES / "get_map.json"
MAP_MODE_PAIR = RESPONSES / "get_map_mode_pair.json"
GAME_VARIANT = RESPONSES / "get_ugc_game_variant.json"
TRANSLATIONS = REFERENCE / "Playlist_modes_translations.json"
API_FILES = [MEDALS, CAREER, SEASONS, CSR_SEASONS, PLAYLIST, MAP, MAP_MODE_PAIR, GAME_VARIANT]
REFERENCE_FILES = [*API_FILES, *sorted(REFERENCE.glob("*.json"))]
RAW_TABLES = ["medals", "medal_translations", "medal_name_files", "career_ranks", "calendar_seasons",
              "csr_seasons", "ugc_assets", "playlist_translations", "mode_translations", "category_translations",
              "documents", "rejected"]


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every raw table's rows except load timestamps, sorted: what a reload must not change."""
    out = {}
    for table in RAW_TABLES:
        with duckdb.connect(str(db), read_only=True) as con:
            columns = [c[0] for c in con.execute(f"DESCRIBE raw.{table}").fetchall()
                       if c[0] not in ("loaded_at", "rejected_at")]
            out[table] = sorted(con.execute(f"SELECT {', '.join(columns)} FROM raw.{table}").fetchall(), key=repr)
    return out


def write(path: Path, doc: object, mtime: float | None = None) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reference") / "data"
    result = load_reference([*API_FILES, REFERENCE], root=root)
    assert result.rejections == [], [r.reason for r in result.rejections]
    assert result.counts.loaded == len(REFERENCE_FILES) == 11
    assert result.database == metadata_db_path(root)
    return result.database


def test_every_medal_of_the_metadata(loaded: Path) -> None:
    doc = read_json(MEDALS)
    assert len(doc["medals"]) == 151
    assert query(loaded, "SELECT count(*) FROM raw.medals") == [(151,)]
    double_kill = next(m for m in doc["medals"] if m["name"]["value"] == "Double Kill")
    row = query(loaded, "SELECT medal_id, name, description, difficulty_index, difficulty, type_index, type, "
                        "sorting_weight, personal_score, sprite_index FROM raw.medals WHERE name = 'Double Kill'")
    assert row == [(double_kill["nameId"], "Double Kill", double_kill["description"]["value"],
                    double_kill["difficultyIndex"], doc["difficulties"][double_kill["difficultyIndex"]],
                    double_kill["typeIndex"], doc["types"][double_kill["typeIndex"]], double_kill["sortingWeight"],
                    double_kill["personalScore"], double_kill["spriteIndex"])]
    assert row[0][0] == 622331684 and row[0][6] == "multikill"
    # 13 locales of names and descriptions
    locales = query(loaded, "SELECT locale, name, description FROM raw.medal_translations WHERE medal_id = ? "
                            "ORDER BY locale", [double_kill["nameId"]])
    assert locales == sorted((loc, name, double_kill["description"]["translations"][loc])
                             for loc, name in double_kill["name"]["translations"].items())
    assert len(locales) == 13
    assert {loc: name for loc, name, _ in locales}["fr-FR"] == "Double frag"
    # the largest NameId fits (BIGINT)
    assert query(loaded, "SELECT max(medal_id) FROM raw.medals") == [(max(m["nameId"] for m in doc["medals"]),)]


def test_medal_name_files_by_language(loaded: Path) -> None:
    for language in ("en", "fr"):
        names = {int(k): v for k, v in read_json(REFERENCE / f"medals_{language}.json").items()}
        rows = dict(query(loaded, "SELECT medal_id, name FROM raw.medal_name_files WHERE language = ?", [language]))
        assert rows == names


def test_career_track(loaded: Path) -> None:
    ranks = read_json(CAREER)["Ranks"]
    assert len(ranks) == 272
    rows = query(loaded, "SELECT rank, xp_required, title, subtitle, tier, tier_type, grade FROM raw.career_ranks "
                         "ORDER BY rank")
    assert rows == [(r["Rank"], r["XpRequiredForRank"], r["RankTitle"]["value"], r["RankSubTitle"]["value"],
                     r["RankTier"]["value"], r["TierType"], r["RankGrade"]) for r in ranks]


def test_calendars(loaded: Path) -> None:
    csr = read_json(CSR_SEASONS)["Seasons"]
    rows = query(loaded, "SELECT season_key, strftime(start_time, '%Y-%m-%dT%H:%M:%S'), "
                         "strftime(end_time, '%Y-%m-%dT%H:%M:%S') FROM raw.csr_seasons ORDER BY start_time")
    assert rows == [(s["CsrSeasonFilePath"].removeprefix("Csr/Seasons/").removesuffix(".json"),
                     s["StartDate"]["ISO8601Date"][:19], s["EndDate"]["ISO8601Date"][:19]) for s in csr]
    seasons = read_json(SEASONS)["Seasons"]
    rows = query(loaded, "SELECT season_key, csr_season_key, operation_track_path FROM raw.calendar_seasons "
                         "ORDER BY start_time")
    assert rows == [(s["SeasonMetadata"].split("/")[-1][:-5], s["CsrSeasonFilePath"].split("/")[-1][:-5],
                     s["OperationTrackPath"]) for s in seasons]


def test_ugc_assets_and_their_links(loaded: Path) -> None:
    playlist, map_doc, pair, variant = (read_json(p) for p in (PLAYLIST, MAP, MAP_MODE_PAIR, GAME_VARIANT))
    own = query(loaded, "SELECT asset_kind, asset_id, version_id, public_name, description FROM raw.ugc_assets "
                        "WHERE NOT is_embedded ORDER BY asset_kind")
    assert own == sorted((kind, d["AssetId"], d["VersionId"], d["PublicName"], d["Description"])
                         for kind, d in [("playlist", playlist), ("map", map_doc), ("map_mode_pair", pair),
                                         ("game_variant", variant)])
    assert query(loaded, "SELECT is_ranked FROM raw.ugc_assets WHERE asset_kind = 'playlist' AND NOT is_embedded") \
        == [(True,)]
    assert playlist["PublicName"] == "Ranked Arena"
    # links: the map-mode pair's map and variant, the playlist's rotation
    embedded = query(loaded, "SELECT asset_kind, asset_id, public_name FROM raw.ugc_assets WHERE is_embedded")
    expected = [("map", pair["MapLink"]["AssetId"], pair["MapLink"]["PublicName"]),
                ("game_variant", pair["UgcGameVariantLink"]["AssetId"], pair["UgcGameVariantLink"]["PublicName"]),
                *[("map_mode_pair", e["AssetId"], e["PublicName"]) for e in playlist["RotationEntries"]]]
    assert sorted(embedded) == sorted(expected)
    assert query(loaded, "SELECT count(*) FROM raw.ugc_assets WHERE asset_id <> lower(asset_id)") == [(0,)]


def test_translations(loaded: Path) -> None:
    doc = read_json(TRANSLATIONS)
    assert sorted(query(loaded, "SELECT asset_id, name_en, name_fr FROM raw.playlist_translations")) == \
        sorted((p["uuid"], p["en"], p["fr"]) for p in doc["playlists"])
    assert sorted(query(loaded, "SELECT name_en, name_fr, category FROM raw.mode_translations")) == \
        sorted({m["en"]: (m["en"], m["fr"], m["category"]) for m in doc["modes"]}.values())
    assert dict(query(loaded, "SELECT category, category_fr FROM raw.category_translations")) == doc["categories"]


def test_raw_bytes_are_kept(loaded: Path) -> None:
    rows = query(loaded, "SELECT kind, doc_id, body FROM raw.documents")
    assert {(kind, doc_id) for kind, doc_id, _ in rows} == {
        ("medal_metadata", "medal_metadata"), ("career_reward_track", "career_reward_track"),
        ("season_calendar", "season_calendar"), ("csr_season_calendar", "csr_season_calendar"),
        ("playlist_mode_translations", "playlist_mode_translations"), ("medal_names", "en"), ("medal_names", "fr"),
        ("playlist", read_json(PLAYLIST)["AssetId"]), ("map", read_json(MAP)["AssetId"]),
        ("map_mode_pair", read_json(MAP_MODE_PAIR)["AssetId"]), ("game_variant", read_json(GAME_VARIANT)["AssetId"]),
    }
    bodies = {kind: body for kind, _, body in rows}
    assert bodies["medal_metadata"] == MEDALS.read_bytes()
    assert bodies["career_reward_track"] == CAREER.read_bytes()


def test_reload_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "data"
    load_reference(REFERENCE_FILES, root=root)
    before = snapshot(metadata_db_path(root))
    again = load_reference([*API_FILES, REFERENCE], root=root)
    assert (again.counts.loaded, again.counts.unchanged, again.counts.replaced, again.counts.rejected) == (0, 11, 0, 0)
    assert snapshot(metadata_db_path(root)) == before


def test_malformed_file_is_rejected_with_reason_and_the_rest_loads(tmp_path: Path) -> None:
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    medals = read_json(MEDALS)
    medals["medals"][3]["difficultyIndex"] = "hard"
    write(bad_dir / "medal_metadata.json", medals)
    (bad_dir / "broken.json").write_text('{"Seasons": [', encoding="utf-8")
    write(bad_dir / "medal_names_fr.json", {"622331684": "Double frag"})  # language not in the name
    root = tmp_path / "data"
    result = load_reference([CAREER, CSR_SEASONS, MAP, bad_dir], root=root)
    assert result.counts.loaded == 3
    reasons = {r.source.path.name: r.reason for r in result.rejections}
    assert reasons["medal_metadata.json"].startswith("invalid medal metadata: medals[3].difficultyIndex: "
                                                     "Input should be a valid integer")
    assert "'hard'" in reasons["medal_metadata.json"]
    assert reasons["broken.json"].startswith("not valid JSON: ")
    assert "medals_<language>.json" in reasons["medal_names_fr.json"]
    db = metadata_db_path(root)
    assert sorted(query(db, "SELECT source_path, reason FROM raw.rejected")) == sorted(
        (str(r.source.path), r.reason) for r in result.rejections)
    assert query(db, "SELECT count(*) FROM raw.career_ranks") == [(272,)]
    assert query(db, "SELECT count(*) FROM raw.medals") == [(0,)]


def test_match_data_gets_a_hint(tmp_path: Path) -> None:
    result = load_reference([RESPONSES / "get_match_stats.json"], root=tmp_path / "data")
    assert "halo load matches" in result.rejections[0].reason
    # and the match loader's reader points reference documents to `halo load reference`
    for path in (MEDALS, REFERENCE / "medals_fr.json", CSR_SEASONS, MAP):
        assert "halo load reference" in read_document(read_source(path)).reason


def test_newer_asset_version_replaces_older_is_ignored(tmp_path: Path) -> None:
    root = tmp_path / "data"
    db = metadata_db_path(root)
    load_reference([MAP], root=root)
    newer = read_json(MAP)
    newer["VersionId"] = "11111111-2222-4333-8444-555555555555"
    newer["PublicName"] = "Forge Space (v2)"
    newer_file = write(tmp_path / "map_v2.json", newer, mtime=MAP.stat().st_mtime + 60)
    result = load_reference([newer_file], root=root)
    assert (result.counts.loaded, result.counts.replaced) == (0, 1)
    assert query(db, "SELECT asset_id, version_id, public_name FROM raw.ugc_assets") == [
        (newer["AssetId"], newer["VersionId"], "Forge Space (v2)")]
    older = dict(newer, PublicName="Forge Space (v0)", VersionId="00000000-2222-4333-8444-555555555555")
    older_file = write(tmp_path / "map_v0.json", older, mtime=MAP.stat().st_mtime - 60)
    result = load_reference([older_file], root=root)
    assert result.counts.older_ignored == 1
    assert query(db, "SELECT public_name FROM raw.ugc_assets") == [("Forge Space (v2)",)]
    assert query(db, "SELECT count(*) FROM raw.documents") == [(1,)]


def test_newer_singleton_replaces_all_its_rows(tmp_path: Path) -> None:
    root = tmp_path / "data"
    load_reference([CAREER], root=root)
    track = read_json(CAREER)
    track["Ranks"] = track["Ranks"][:3]
    shorter = write(tmp_path / "career.json", track, mtime=CAREER.stat().st_mtime + 60)
    result = load_reference([shorter], root=root)
    assert result.counts.replaced == 1
    assert query(metadata_db_path(root), "SELECT rank FROM raw.career_ranks ORDER BY rank") == [(1,), (2,), (3,)]


def test_career_track_with_a_gap_is_rejected(tmp_path: Path) -> None:
    track = read_json(CAREER)
    del track["Ranks"][142]
    result = load_reference([write(tmp_path / "career.json", track)], root=tmp_path / "data")
    assert "Ranks must be numbered 1..271 once each (missing [143]" in result.rejections[0].reason


def test_cli_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALO_DATA_DIR", str(tmp_path / "data"))
    assert halo(["load", "reference", str(MAP), str(REFERENCE)]) == 0
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert halo(["load", "reference", str(tmp_path / "bad.json"), str(CAREER)]) == 1
    assert halo(["load", "reference", str(tmp_path / "missing.json")]) == 2
    db = metadata_db_path(tmp_path / "data")
    assert query(db, "SELECT count(*) FROM raw.career_ranks") == [(272,)]
