"""`halo demo` end to end into a temporary data dir; the warehouses must agree with the generated JSON.

Expected values are recomputed here from the generated documents with plain json (not the loader,
not dbt): matches and kills per player, wins per map, and who killed the owner how often.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest

from loader.core.paths import player_db_path
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference

PLAYERS, MATCHES, SEED = 3, 60, 11


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("demo") / "data"
    env = dict(os.environ, HALO_DATA_DIR=str(root))
    proc = subprocess.run([sys.executable, "-m", "loader.cli", "demo", "--players", str(PLAYERS),
                           "--matches", str(MATCHES), "--seed", str(SEED)],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, proc


def player_folders(root: Path) -> dict[str, Path]:
    return {folder.name: folder for folder in sorted((root / "demo-source" / "players").iterdir())}


def match_docs(folder: Path) -> list[dict]:
    docs = [json.loads(path.read_bytes()) for path in sorted(folder.glob("*.json"))]
    return [d for d in docs if isinstance(d, dict) and "MatchInfo" in d and "Players" in d]


def owner_xuid(folder: Path, docs: list[dict]) -> str:
    """The tracked player is the one human who is in every match of their folder."""
    common = set.intersection(*({p["PlayerId"] for p in d["Players"]} for d in docs))
    (owner,) = [p for p in common if p.startswith("xuid(")]
    return owner


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_every_player_built_and_summarised(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, proc = demo
    assert len(player_folders(root)) == PLAYERS
    for gamertag in player_folders(root):
        line = next(line for line in proc.stdout.splitlines() if line.startswith(f"{gamertag}: "))
        assert line.startswith(f"{gamertag}: full build ok in ") and " tests passed, 0 failed" in line
        assert "nemesis:" in proc.stdout and "best teammate:" in proc.stdout
        report = player_db_path(gamertag, root).parent / "report.html"  # halo report's page (tests/test_report.py)
        assert f"report of {gamertag}: {report}  (open it in a browser" in proc.stdout and report.is_file()
    assert "docs site:" in proc.stdout
    assert (root / "warehouse" / "metadata.duckdb").is_file()


def test_matches_and_kills_per_player(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, _ = demo
    for gamertag, folder in player_folders(root).items():
        docs = match_docs(folder)
        me = owner_xuid(folder, docs)
        kills = sum(entry["Stats"]["CoreStats"]["Kills"]
                    for d in docs for p in d["Players"] if p["PlayerId"] == me for entry in p["PlayerTeamStats"])
        db = player_db_path(gamertag, root)
        assert query(db, "SELECT sum(matches), sum(kills) FROM main.mv_global_stats") == [(len(docs), kills)]
        assert query(db, "SELECT count(*), sum(kills) FROM main.match_stats") == [(len(docs), kills)]


def test_wins_per_map(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, _ = demo
    map_names = {}
    for path in (root / "demo-source" / "reference").glob("map_*.json"):
        doc = json.loads(path.read_bytes())
        map_names[doc["AssetId"]] = doc["PublicName"]
    for gamertag, folder in player_folders(root).items():
        docs = match_docs(folder)
        me = owner_xuid(folder, docs)
        wins: Counter = Counter()
        played: Counter = Counter()
        for d in docs:
            name = map_names[d["MatchInfo"]["MapVariant"]["AssetId"]]
            played[name] += 1
            outcome = next(p["Outcome"] for p in d["Players"] if p["PlayerId"] == me)
            wins[name] += outcome == 2
        rows = query(player_db_path(gamertag, root), "SELECT map_name, sum(matches), sum(wins) FROM main.mv_map_stats "
                                                     "GROUP BY map_name")  # summed over experiences
        assert sorted(rows) == sorted((name, played[name], wins[name]) for name in played)


def test_who_killed_the_owner(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    """Each death event of the owner is paired with the opponent's kill event at the same millisecond."""
    root, _ = demo
    checked = 0
    for gamertag, folder in player_folders(root).items():
        docs = {d["MatchId"]: d for d in match_docs(folder)}
        me = owner_xuid(folder, list(docs.values()))
        my_xuid = int(me[5:-1])
        killed_by: Counter = Counter()
        for path in sorted(folder.glob("*.highlights.json")):
            film = json.loads(path.read_bytes())
            match = docs[film["MatchId"]]
            team = {int(p["PlayerId"][5:-1]): p["LastTeamId"] for p in match["Players"]
                    if p["PlayerId"].startswith("xuid(")}
            kills_at = defaultdict(list)
            for event in film["Events"]:
                if event["EventType"] == "kill":
                    kills_at[event["TimeMs"]].append(event["Xuid"])
            for event in film["Events"]:
                if event["EventType"] == "death" and event["Xuid"] == my_xuid:
                    killers = [x for x in kills_at[event["TimeMs"]] if x != my_xuid and team[x] != team[my_xuid]]
                    if not killers:
                        continue  # a suicide: a death nobody gets credit for (unpaired, not counted)
                    assert len(killers) == 1, (path.name, event)  # this check relies on unambiguous pairs
                    killed_by[killers[0]] += 1
        # antagonists has a row per experience: summed over them
        per_opponent = ("SELECT opponent_xuid, sum(times_killed_by) AS times_killed_by, sum(net_kills) AS net_kills "
                        "FROM main.antagonists GROUP BY opponent_xuid")
        rows = query(player_db_path(gamertag, root),
                     f"SELECT opponent_xuid, times_killed_by FROM ({per_opponent}) WHERE times_killed_by > 0")
        assert dict(rows) == dict(killed_by)
        nemesis = query(player_db_path(gamertag, root),
                        f"SELECT opponent_xuid FROM ({per_opponent}) ORDER BY times_killed_by DESC, net_kills, "
                        "opponent_xuid LIMIT 1")[0][0]
        top = max(killed_by.values())
        assert killed_by[nemesis] == top
        checked += sum(killed_by.values())
    assert checked > 0


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_docs_site_shows_the_lineage_of_match_stats(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    """`halo docs --serve` on localhost, rendered in headless Chromium; the screenshot is kept as an artifact."""
    import time
    import urllib.request

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (python3 run.py installs Debian's chromium when it can, as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra: pip install -e "
                                                                  "'.[test]'")
    root, _ = demo
    port = free_port()
    env = dict(os.environ, HALO_DATA_DIR=str(root))
    server = subprocess.Popen([sys.executable, "-m", "loader.cli", "docs", "--serve", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 180
        while True:
            try:
                manifest = json.loads(urllib.request.urlopen(base + "manifest.json", timeout=2).read())
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "docs server did not come up"
                time.sleep(0.5)
        catalog = json.loads(urllib.request.urlopen(base + "catalog.json", timeout=10).read())
        undocumented = []
        for uid, node in manifest["nodes"].items():
            if node["resource_type"] not in ("model", "seed") or node["package_name"] != "halo":
                continue
            if not node["description"].strip():
                undocumented.append(uid)
            for column in (catalog["nodes"].get(uid) or {"columns": {}})["columns"]:
                if not (node["columns"].get(column.lower()) or {}).get("description", "").strip():
                    undocumented.append(f"{uid}.{column}")
        undocumented += [uid for uid, source in manifest["sources"].items() if not source["description"].strip()]
        assert undocumented == []  # every model, column and source of the docs site is described
        # The lineage the site draws comes from the manifest: match_stats reaches back to raw sources
        # and forward to the season archive and the aggregates.
        parents = manifest["parent_map"]
        assert "model.halo.match_stats_season_archive" in manifest["child_map"]["model.halo.match_stats"]

        def upstream(node: str) -> set[str]:
            seen, todo = set(), [node]
            while todo:
                for parent in parents.get(todo.pop(), []):
                    if parent not in seen:
                        seen.add(parent)
                        todo.append(parent)
            return seen
        assert {"source.halo.halo.matches", "source.halo.halo.match_players"} <= upstream("model.halo.match_stats")

        artifacts = Path(__file__).resolve().parents[1] / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        shot = artifacts / "docs-lineage-match_stats.png"
        shot.unlink(missing_ok=True)
        # one browser session for the picture and the page's text (playwright drives the system's Chromium)
        with sync_api.sync_playwright() as playwright:
            chrome = playwright.chromium.launch(executable_path=browser, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = chrome.new_page(viewport={"width": 1600, "height": 1000})
                page.goto(base + "#!/model/model.halo.match_stats?g_v=1")
                page.wait_for_function("document.body.textContent.includes('Lineage Graph')", timeout=120_000)
                page.wait_for_selector("canvas", timeout=120_000)
                page.wait_for_timeout(2000)  # the graph lays itself out
                page.screenshot(path=str(shot))
                dom = page.content()
            finally:
                chrome.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Lineage Graph" in dom and "match_stats" in dom
    assert shot.is_file() and shot.stat().st_size > 50_000  # a rendered graph, not a blank page


def test_a_second_demo_says_its_update_build_ran_no_tests(
        demo: tuple[Path, subprocess.CompletedProcess], tmp_path: Path) -> None:
    """Issue 18, point 6: each player's line says the tests ran (a full build) or that an update build skipped
    them (a second `halo demo` into the same data dir: the same documents, an update build). The first demo is the
    module's; the second runs on a copy of its data dir, before any test here adds data to it."""
    first_root, first = demo
    root = tmp_path / "data"
    shutil.copytree(first_root, root)
    env = dict(os.environ, HALO_DATA_DIR=str(root))
    second = subprocess.run([sys.executable, "-m", "loader.cli", "demo", "--players", str(PLAYERS), "--matches",
                             str(MATCHES), "--seed", str(SEED), "--no-docs"], env=env, capture_output=True, text=True,
                            timeout=900)
    assert second.returncode == 0, second.stdout + second.stderr
    assert list(player_folders(root)) == list(player_folders(first_root))
    for gamertag in player_folders(root):
        full, update = (next(line for line in proc.stdout.splitlines() if line.startswith(f"{gamertag}: "))
                        for proc in (first, second))
        assert re.fullmatch(rf"{re.escape(gamertag)}: full build ok in \d+\.\d s, [1-9]\d* tests passed, 0 failed",
                            full)
        assert re.fullmatch(rf"{re.escape(gamertag)}: update build ok in \d+\.\d s, an update build: tests not run "
                            r"\(they ran with the last full build; halo build --full runs them\)", update), update


def test_build_reports_each_player_and_one_failure_does_not_stop_the_others(
        demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, _ = demo
    first = sorted(player_folders(root))[0]
    env = dict(os.environ, HALO_DATA_DIR=str(root))
    proc = subprocess.run([sys.executable, "-m", "loader.cli", "build", "--player", "Nobody Loaded", first],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 1  # one player failed
    assert "Nobody Loaded: FAILED" in proc.stderr and "load the player's matches first" in proc.stderr
    assert f"built {first}: ok (update build)" in proc.stderr  # the demo already built it fully
    summary = [line for line in proc.stdout.splitlines() if first in line]
    assert summary and str(MATCHES) in summary[0] and "ok" in summary[0]


def test_new_matches_after_a_full_build_are_added_by_an_update_build(
        demo: tuple[Path, subprocess.CompletedProcess], tmp_path: Path) -> None:
    """Load a few more matches of one demo player, `halo build` (an update), then `--full`: same, right counts."""
    from loader.demo import generate_player_matches

    root, _ = demo
    gamertag = sorted(player_folders(root))[0]
    db = player_db_path(gamertag, root)
    xuid = query(db, "SELECT xuid FROM raw.owner")[0][0]
    extra = generate_player_matches(tmp_path / "more", gamertag=gamertag, xuid=xuid, n_matches=4, seed=SEED + 1000)
    new_docs = match_docs(extra.players[0][2])
    assert new_docs and not {d["MatchId"] for d in new_docs} & {
        r[0] for r in query(db, "SELECT match_id FROM raw.matches")}
    before = query(db, "SELECT sum(matches), sum(kills) FROM main.mv_global_stats")[0]
    me = f"xuid({xuid})"
    added_kills = sum(e["Stats"]["CoreStats"]["Kills"] for d in new_docs for p in d["Players"] if p["PlayerId"] == me
                      for e in p["PlayerTeamStats"])
    loaded = load_matches(gamertag, [extra.players[0][2]], root=root)  # the load is not the subject: in-process
    assert loaded.rejections == [] and loaded.counts.loaded, [r.reason for r in loaded.rejections]
    env = dict(os.environ, HALO_DATA_DIR=str(root))
    expected = (before[0] + len(new_docs), before[1] + added_kills)
    scores = {}
    for flags, mode in (([], "update"), (["--full"], "full")):
        proc = subprocess.run([sys.executable, "-m", "loader.cli", "build", "--player", gamertag, *flags],
                              env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"built {gamertag}: ok ({mode} build)" in proc.stderr
        assert query(db, "SELECT sum(matches), sum(kills) FROM main.mv_global_stats") == [expected]
        assert query(db, "SELECT count(*), count(DISTINCT match_id) FROM main.match_stats") == [(expected[0],) * 2]
        scores[mode] = {match_id: (session, score) for match_id, session, score in query(
            db, "SELECT match_id, session_id, round(performance_score, 9) FROM main.match_stats")}
    # the update scores its new matches against the stored ones (a join), a full build with windows over the whole
    # history: one definition (macros/performance_score.sql), so the same numbers
    new_ids = {d["MatchId"] for d in new_docs}
    assert all(scores["update"][m][1] is not None for m in new_ids)
    assert scores["update"] == scores["full"]


def test_new_reference_data_rebuilds_every_player_fully_even_in_later_runs(
        demo: tuple[Path, subprocess.CompletedProcess], tmp_path: Path) -> None:
    """A renamed map reaches player B's warehouse even when B is built in a later run than player A."""
    root, _ = demo
    first, second = sorted(player_folders(root))[:2]
    map_file = sorted((root / "demo-source" / "reference").glob("map_*.json"))[0]
    renamed = json.loads(map_file.read_bytes())
    renamed["PublicName"] = "Renamed Arena"
    (tmp_path / map_file.name).write_text(json.dumps(renamed))  # a newer file of the same asset
    env = dict(os.environ, HALO_DATA_DIR=str(root))

    def halo(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "loader.cli", *args], env=env, capture_output=True, text=True,
                              timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    loaded = load_reference([tmp_path / map_file.name], root=root)  # the load is not the subject: in-process
    assert loaded.rejections == [] and loaded.counts.replaced == 1, [r.reason for r in loaded.rejections]
    for gamertag in (first, second):  # two separate runs
        proc = halo("build", "--player", gamertag)
        assert f"built {gamertag}: ok (full build)" in proc.stderr
        names = {r[0] for r in query(player_db_path(gamertag, root), "SELECT map_name FROM main.match_stats")}
        assert renamed["PublicName"] in names or not any(
            d["MatchInfo"]["MapVariant"]["AssetId"] == renamed["AssetId"]
            for d in match_docs(player_folders(root)[gamertag]))
        assert query(player_db_path(gamertag, root), "SELECT count(*) FROM main.match_stats WHERE map_asset_id = ? "
                     "AND map_name IS DISTINCT FROM ?", [renamed["AssetId"], renamed["PublicName"]]) == [(0,)]


def _children(pid: int) -> set[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def test_docs_server_ends_with_halo_and_a_used_port_is_one_line(
        demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    """SIGTERM to `halo docs --serve` leaves no web server behind; a port already in use is one line, exit 2."""
    import signal
    import socket
    import time
    import urllib.request

    root, _ = demo
    env = dict(os.environ, HALO_DATA_DIR=str(root))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        used = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "loader.cli", "docs", "--serve", "--port", str(used)], env=env,
                              capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [f"error: port {used} is already in use on 127.0.0.1: stop what "
                                                "uses it or give another with --port"]

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "loader.cli", "docs", "--serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "docs server did not come up"
                time.sleep(0.5)
        children = _children(server.pid)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    finally:
        server.kill()
    # helpers of the dead process (multiprocessing's resource tracker) exit on their own within seconds; a web
    # server left behind never would
    deadline = time.monotonic() + 20
    while (left := [pid for pid in children if Path(f"/proc/{pid}").exists()]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == []
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


def test_docs_of_a_player_nobody_loaded_is_one_line(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, _ = demo
    proc = subprocess.run([sys.executable, "-m", "loader.cli", "docs", "--player", "Nobody"],
                          env=dict(os.environ, HALO_DATA_DIR=str(root)), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: no player 'Nobody' under ") and "Traceback" not in proc.stderr
