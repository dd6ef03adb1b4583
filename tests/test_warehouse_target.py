"""The `warehouse` target: one `dbt build` over the Parquet lake gives every tracked player the rows of their own
file, in every mart and every column (tests/mart_equality.py; floats to 1e-9 relative).

Three demo players who play some sessions together (the generator writes a shared match into each friend's folder)
are loaded with the real loader and built twice with the real dbt: each in their own file (`halo build --all`), and
all of them in HALO_DATA_DIR/warehouse/warehouse.duckdb (`halo build --warehouse`, lake export included). Expected
values: each player's own file, whose marts tests/test_marts.py and tests/test_demo_e2e.py check against the raw
JSON; the demo JSON, read with plain json, for the counts (matches per player, shared matches, film gamertags).

Columns left out (mart_equality.IGNORED_COLUMNS): `loaded_at` and `is_owner`. Filled (`gamertag`): the warehouse
knows the name of a player seen in any owner's film; a player's file only from its own films. Each name it fills
must be one of that player's names in the demo's film files.
"""


import duckdb
import pytest
from mart_equality import MARTS, compare_marts, demo_documents, load_demo_friends, read_duckdb_marts

from loader.cli.main import main
from loader.core.paths import metadata_db_path, player_db_path, warehouse_db_path
from loader.warehouse.lake import lake_dir

MATCHES_PER_PLAYER = 20
SEED = 5
FILLED = frozenset({"gamertag"})
NOT_IN_THE_DEMO = {"csr_snapshots", "service_record"}  # the demo writes no CSR or service-record documents


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root, owners = load_demo_friends(tmp_path_factory.mktemp("warehouse"), MATCHES_PER_PLAYER, SEED)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HALO_DATA_DIR", str(root))
        assert main(["build", "--all"]) == 0
        assert main(["build", "--warehouse"]) == 0
    return {"root": root, "owners": owners}


def test_the_warehouse_tracks_every_owner_of_the_lake(built: dict) -> None:
    with duckdb.connect(str(warehouse_db_path(built["root"])), read_only=True) as con:
        tracked = con.execute("SELECT owner_xuid, gamertag FROM main.tracked_players ORDER BY 1").fetchall()
        per_owner = dict(con.execute("SELECT owner_xuid, count(*) FROM main.match_stats GROUP BY 1").fetchall())
        distinct = con.execute("SELECT count(*) FROM main.match_participants WHERE is_owner").fetchall()[0][0]
    assert tracked == sorted((xuid, gamertag) for xuid, (gamertag, _) in built["owners"].items())
    files = {xuid: demo_documents(folder)[0] for xuid, (_, folder) in built["owners"].items()}
    assert per_owner == {xuid: len(matches) for xuid, matches in files.items()} == \
        dict.fromkeys(files, MATCHES_PER_PLAYER)
    shared = sum(len(m) for m in files.values()) - len(set().union(*files.values()))
    assert shared > 0, "the demo has no shared match: choose another SEED"
    # one owner row per owner of each match, however many owners loaded it
    assert distinct == sum(len(m) for m in files.values())


@pytest.mark.parametrize("owner_index", [0, 1, 2])
def test_every_mart_of_the_warehouse_filtered_by_owner_equals_the_owners_file(built: dict, owner_index: int) -> None:
    xuid = sorted(built["owners"])[owner_index]
    gamertag, folder = built["owners"][xuid]
    meta = metadata_db_path(built["root"])
    own = read_duckdb_marts(player_db_path(gamertag, built["root"]), xuid, MARTS, meta=meta)
    warehouse = read_duckdb_marts(warehouse_db_path(built["root"]), xuid, MARTS, meta=meta)
    # the comparison compares something: every mart the demo's documents fill has rows
    assert {mart for mart, rows in own.items() if not rows} == NOT_IN_THE_DEMO
    assert len(own["match_stats"]) == len(demo_documents(folder)[0])
    compare_marts(own, warehouse, filled=FILLED)


def test_a_name_the_warehouse_fills_is_that_players_name_in_a_film(built: dict) -> None:
    names: dict[int, set[str]] = {}
    for _, folder in built["owners"].values():
        for film in demo_documents(folder)[1]:
            for event in film["Events"]:
                names.setdefault(event["Xuid"], set()).add(event["Gamertag"])
    filled = 0
    for xuid, (gamertag, _) in built["owners"].items():
        own = read_duckdb_marts(player_db_path(gamertag, built["root"]), xuid, ["match_participants"])
        warehouse = read_duckdb_marts(warehouse_db_path(built["root"]), xuid, ["match_participants"])
        known = {(r["match_id"], r["player_id"]) for r in own["match_participants"] if r["gamertag"] is not None}
        for row in warehouse["match_participants"]:
            if row["gamertag"] is not None and (row["match_id"], row["player_id"]) not in known:
                assert row["gamertag"] in names[row["xuid"]], row
                filled += 1
    assert filled > 0  # the demo's shared films do name players of other owners' matches


def test_the_lake_holds_the_reference_data(built: dict) -> None:
    meta = lake_dir(built["root"]) / "meta"
    with duckdb.connect(str(metadata_db_path(built["root"])), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                            "'main'").fetchall()}
        medals = con.execute("SELECT * FROM main.medal_definitions ORDER BY ALL").fetchall()
    assert {p.name for p in meta.iterdir()} == tables
    exported = duckdb.connect().execute("SELECT * FROM read_parquet(?) ORDER BY ALL",
                                        [str(meta / "medal_definitions" / "data_0.parquet")]).fetchall()
    assert exported == medals and len(medals) > 50


def test_a_second_warehouse_build_with_nothing_new_exports_nothing(built: dict, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("HALO_DATA_DIR", str(built["root"]))
    capsys.readouterr()
    assert main(["build", "--warehouse"]) == 0
    err = capsys.readouterr().err
    assert "lake: up to date (3 players" in err
    assert "built warehouse: ok (update build)" in err


def test_a_player_moved_away_is_a_full_build_without_their_rows(built: dict, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture) -> None:
    """Last in this file: it changes the fixture's data folder."""
    xuid = sorted(built["owners"])[2]
    gamertag, _ = built["owners"][xuid]
    folder = player_db_path(gamertag, built["root"]).parent
    folder.rename(built["root"].parent / "moved-away")
    monkeypatch.setenv("HALO_DATA_DIR", str(built["root"]))
    capsys.readouterr()
    assert main(["build", "--warehouse"]) == 0
    assert "built warehouse: ok (full build)" in capsys.readouterr().err
    with duckdb.connect(str(warehouse_db_path(built["root"])), read_only=True) as con:
        for mart in MARTS:
            columns = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE "
                                                 "table_schema = 'main' AND table_name = ?", [mart]).fetchall()}
            if "owner_xuid" in columns:
                left = con.execute(f"SELECT count(*) FROM main.{mart} WHERE owner_xuid = ?", [xuid]).fetchall()
                assert left == [(0,)], mart
        assert con.execute("SELECT count(*) FROM main.tracked_players").fetchall() == [(2,)]
