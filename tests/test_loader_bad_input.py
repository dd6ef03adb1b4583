"""Bad input: every kind of broken document, mixed into a batch of good ones, is rejected precisely and kept."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import FILM, OWNER_XUID, RESPONSES, read_json

from loader.cli.main import main as halo
from loader.core.paths import player_db_path

PLAYER = "Spartan001"
SLAYER_ID = read_json(RESPONSES / "get_match_stats.json")["MatchId"]


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("batch")
    good = {name: shutil.copy(RESPONSES / name, folder / name)
            for name in ("get_match_stats.json", "get_match_stats_ctf.json", "get_match_history.json")}
    good["film38"] = shutil.copy(FILM / "38_63391382-6b88-43f9-9ff4-6313404c419c.gzip", folder)
    slayer_text = (RESPONSES / "get_match_stats.json").read_text()

    wrong_type = read_json(RESPONSES / "get_match_stats_zones.json")
    wrong_type["Players"][3]["PlayerTeamStats"][0]["Stats"]["CoreStats"]["Kills"] = "many"
    no_id = read_json(RESPONSES / "get_match_stats_oddball.json")
    del no_id["MatchId"]
    chunk = (FILM / "38_63391382-6b88-43f9-9ff4-6313404c419c.gzip").read_bytes()
    bad = {
        "bad_json": write(folder, "truncated.json", slayer_text[: len(slayer_text) // 2]),
        "wrong_type": write(folder, "wrong_type.json", json.dumps(wrong_type)),
        "missing_id": write(folder, "no_match_id.json", json.dumps(no_id)),
        "empty": write(folder, "empty.json", b""),
        "not_utf8": write(folder, "latin1.json", '{"MatchId": "caf\u00e9"}'.encode("latin-1")),
        "corrupt_film": write(folder, "38_1b527ad3-80c8-44bf-abee-2d28fe9feafb.gzip", chunk[: len(chunk) // 3]),
        "garbage_film": write(folder, "38_4b64348e-5897-4028-856d-44c7955c83e3.gzip", b"not a zlib stream"),
        "unknown_shape": write(folder, "something.json", '{"Hello": "world"}'),
    }
    return {**{f"good:{k}": v for k, v in good.items()}, **bad, "folder": folder}


@pytest.fixture(scope="module")
def loaded(bad_batch: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    root = tmp_path_factory.mktemp("data")
    mp = pytest.MonkeyPatch()
    mp.setenv("HALO_DATA_DIR", str(root))
    try:
        code = halo(["load", "matches", "--player", PLAYER, "--xuid", str(OWNER_XUID), str(bad_batch["folder"])])
    finally:
        mp.undo()
    return code, player_db_path(PLAYER, root)


def rejected(db: Path) -> dict[str, tuple[str, str | None, bytes]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT source_path, reason, match_id, body FROM raw.rejected").fetchall()
    return {Path(path).name: (reason, match_id, body) for path, reason, match_id, body in rows}


def test_good_documents_load_and_exit_code_is_1(loaded: tuple[int, Path]) -> None:
    code, db = loaded
    assert code == 1
    with duckdb.connect(str(db), read_only=True) as con:
        assert sorted(r[0] for r in con.execute("SELECT match_id FROM raw.matches").fetchall()) == sorted(
            [SLAYER_ID, read_json(RESPONSES / "get_match_stats_ctf.json")["MatchId"]])
        assert con.execute("SELECT count(*) FROM raw.highlight_events").fetchall() == [(640,)]
        assert con.execute("SELECT count(*) FROM raw.match_history").fetchall() == [(25,)]
        assert con.execute("SELECT count(*) FROM raw.rejected").fetchall() == [(8,)]


@pytest.mark.parametrize("case, expected_words", [
    ("bad_json", ["not valid JSON", "EOF"]),
    ("wrong_type", ["invalid match stats", "match 1b527ad3-80c8-44bf-abee-2d28fe9feafb",
                    "Players[3].PlayerTeamStats[0].Stats.CoreStats.Kills", "valid integer", "'many'"]),
    ("missing_id", ["invalid match stats", "MatchId: Field required"]),
    ("empty", ["empty file"]),
    ("not_utf8", ["not UTF-8"]),
    ("corrupt_film", ["corrupt film highlight chunk (version 38)"]),
    ("garbage_film", ["corrupt film highlight chunk", "error"]),
    ("unknown_shape", ["not a recognised document", "accepted shapes are", "match stats (MatchId"]),
])
def test_each_bad_document_is_in_raw_rejected(bad_batch: dict[str, Path], loaded: tuple[int, Path],
                                              case: str, expected_words: list[str]) -> None:
    path = bad_batch[case]
    reason, _, body = rejected(loaded[1])[path.name]
    for word in expected_words:
        assert word in reason, (word, reason)
    assert body == path.read_bytes()  # the bytes are kept, nothing is lost


def test_rejects_name_the_match_when_known(bad_batch: dict[str, Path], loaded: tuple[int, Path]) -> None:
    rows = rejected(loaded[1])
    assert rows[bad_batch["wrong_type"].name][1] == "1b527ad3-80c8-44bf-abee-2d28fe9feafb"
    assert rows[bad_batch["corrupt_film"].name][1] == "1b527ad3-80c8-44bf-abee-2d28fe9feafb"


def test_reloading_bad_files_does_not_duplicate_rejections(bad_batch: dict[str, Path], loaded: tuple[int, Path],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _, db = loaded
    monkeypatch.setenv("HALO_DATA_DIR", str(db.parents[2]))
    assert halo(["load", "matches", "--player", PLAYER, str(bad_batch["folder"])]) == 1
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.rejected").fetchall() == [(8,)]
        assert con.execute("SELECT count(*) FROM raw.matches").fetchall() == [(2,)]
