"""`halo report`: the page of charts, opened in headless Chromium, and its numbers against the demo's raw JSON.

One demo player is generated, loaded and built once for the file (`halo demo`, which also writes the report).
Expected numbers are recomputed here from the generated documents with plain json (not the loader, not dbt, not
the report's queries): per-match K/D, KDA and outcome with their rolling means, wins per map, sessions, hours and
days, medals, CSR after each ranked match.

The browser test drives the system's Chromium (`/usr/bin/chromium`, installed by `python3 run.py setup`) through
the Chrome DevTools Protocol with the `playwright` package (no browser download). It saves a screenshot to
test-artifacts/; with HALO_UPDATE_DOCS_IMAGES=1 it also rewrites the README's image, docs/report.png.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from loader.core.paths import metadata_db_path, player_db_path, player_dir
from loader.report.data import read_report_data

GAMERTAG, MATCHES, SEED = "Demo Chief", 120, 11
ROOT = Path(__file__).resolve().parents[1]
CHART_DATA = re.compile(r'<script type="application/json" id="halo-report-charts">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("report") / "data"
    proc = subprocess.run([sys.executable, "-m", "loader.cli", "demo", "--players", "1", "--matches", str(MATCHES),
                           "--seed", str(SEED), "--no-docs"], env=dict(os.environ, HALO_DATA_DIR=str(root)),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, proc


def halo(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loader.cli", *args], env=dict(os.environ, HALO_DATA_DIR=str(root)),
                          capture_output=True, text=True, timeout=600)


def page_charts(page: Path) -> list[dict]:
    """The charts the page embeds: [{"id": ..., "spec": {..., "datasets": {...}}}]."""
    return json.loads(CHART_DATA.search(page.read_text(encoding="utf-8")).group(1))


def chart_data(charts: list[dict], chart_id: str, name: str) -> list[dict]:
    return next(c for c in charts if c["id"] == chart_id)["spec"]["datasets"][name]


# ------------------------------------------------------------------ the raw JSON, read by hand

def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def shown(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def experience_of(info: dict) -> str:
    """docs/definitions.md#experience, from the match document alone."""
    if (info.get("GameplayInteraction") == 2 or info.get("PlaylistExperience") in (4, 6)
            or info.get("GameVariantCategory") in (1, 42)):
        return "pve"
    return "pvp_matchmade" if info.get("Playlist") else "pvp_custom"


def owner_matches(root: Path) -> tuple[list[dict], str]:
    """The owner's row of each match, in order of start time then match id."""
    folder = root / "demo-source" / "players" / GAMERTAG
    docs = [json.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))]
    docs = [d for d in docs if isinstance(d, dict) and "MatchInfo" in d and "Players" in d]
    common = set.intersection(*({p["PlayerId"] for p in d["Players"]} for d in docs))
    (me,) = [p for p in common if p.startswith("xuid(")]
    rows = []
    for d in docs:
        (player,) = [p for p in d["Players"] if p["PlayerId"] == me]
        core = [e["Stats"]["CoreStats"] for e in player["PlayerTeamStats"]]
        medals: Counter = Counter()
        for stats in core:
            for medal in stats.get("Medals") or []:
                medals[medal["NameId"]] += medal["Count"]
        skill_file = folder / f"skill_{d['MatchId']}.json"
        csr = None
        if skill_file.is_file():
            for entry in json.loads(skill_file.read_bytes())["Value"]:
                recap = entry["Id"] == me and (entry.get("Result") or {}).get("RankRecap")
                if recap and recap.get("PostMatchCsr"):
                    csr = recap["PostMatchCsr"]["Value"]
        info = d["MatchInfo"]
        rows.append({"match_id": d["MatchId"], "start": parse_time(info["StartTime"]),
                     "end": parse_time(info["EndTime"]), "experience": experience_of(info),
                     "map": info["MapVariant"]["AssetId"],
                     "playlist": (info.get("Playlist") or {}).get("AssetId"),
                     "kills": sum(s["Kills"] for s in core), "deaths": sum(s["Deaths"] for s in core),
                     "kda": sum(s["KDA"] for s in core), "won": player["Outcome"] == 2, "medals": medals, "csr": csr})
    rows.sort(key=lambda r: (r["start"], r["match_id"]))
    return rows, me


def reference(root: Path, prefix: str) -> dict[str, dict]:
    docs = (json.loads(p.read_bytes()) for p in (root / "demo-source" / "reference").glob(f"{prefix}_*.json"))
    return {d["AssetId"]: d for d in docs}


def kd(kills: int, deaths: int) -> float:
    return kills if deaths == 0 else kills / deaths  # docs/definitions.md#kd_ratio


def expected_timeline(matches: list[dict], max_points: int) -> list[dict]:
    """docs/definitions.md#rolling_mean and #report_points, by hand."""
    out = []
    for experience in sorted({m["experience"] for m in matches}):
        ms = [m for m in matches if m["experience"] == experience]
        k = math.ceil(len(ms) / max_points)
        for start in range(0, len(ms), k):
            bucket, last = ms[start:start + k], start + min(k, len(ms) - start) - 1
            window = ms[max(0, last - 19):last + 1]
            out.append({"experience": experience, "first_match": start + 1, "last_match": last + 1,
                        "matches": len(bucket), "start_time": shown(bucket[0]["start"]),
                        "kd_ratio": kd(sum(m["kills"] for m in bucket), sum(m["deaths"] for m in bucket)),
                        "kda": sum(m["kda"] for m in bucket) / len(bucket),
                        "win_rate": sum(m["won"] for m in bucket) / len(bucket),
                        "rolling_kd_ratio": kd(sum(m["kills"] for m in window), sum(m["deaths"] for m in window)),
                        "rolling_kda": sum(m["kda"] for m in window) / len(window),
                        "rolling_win_rate": sum(m["won"] for m in window) / len(window)})
    return out


def assert_rows_equal(actual: list[dict], expected: list[dict]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert got.keys() == want.keys(), (got, want)
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-9), (key, got, want)
            else:
                assert got[key] == value, (key, got, want)


# ------------------------------------------------------------------ tests

def test_demo_writes_the_report_and_prints_its_path(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, proc = demo
    page = player_dir(GAMERTAG, root) / "report.html"
    assert f"report of {GAMERTAG}: {page}  (open it in a browser" in proc.stdout
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "vegaEmbed" in text
    assert page.stat().st_size < 5_000_000  # what the page fetches: the browser test (nothing but itself)


def test_embedded_numbers_equal_the_raw_documents(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, _ = demo
    charts = page_charts(player_dir(GAMERTAG, root) / "report.html")
    matches, _ = owner_matches(root)
    experiences = sorted({m["experience"] for m in matches})
    assert {"pvp_matchmade", "pve"} <= set(experiences)

    # K/D, KDA, win rate per match with the rolling means (120 matches: one point per match)
    timeline = expected_timeline(matches, max_points=1000)
    for experience in experiences:
        want = [r for r in timeline if r["experience"] == experience]
        assert all(r["matches"] == 1 for r in want)
        for key, value, rolling in (("kd", "kd_ratio", "rolling_kd_ratio"), ("kda", "kda", "rolling_kda"),
                                    ("win_rate", "win_rate", "rolling_win_rate")):
            columns = {"experience", "first_match", "last_match", "matches", "start_time", value, rolling}
            assert_rows_equal(chart_data(charts, f"{key}-{experience}", "timeline"),
                              [{k: v for k, v in row.items() if k in columns} for row in want])

    # wins and K/D per map (names from the reference documents), each experience apart
    maps = {asset: doc["PublicName"] for asset, doc in reference(root, "map").items()}
    for experience in experiences:
        per_map: dict[str, list[dict]] = defaultdict(list)
        for m in matches:
            if m["experience"] == experience:
                per_map[maps[m["map"]]].append(m)
        want = {name: (len(ms), sum(m["won"] for m in ms), sum(m["won"] for m in ms) / len(ms),
                       kd(sum(m["kills"] for m in ms), sum(m["deaths"] for m in ms))) for name, ms in per_map.items()}
        got = {r["map"]: (r["matches"], r["wins"], r["win_rate"], r["kd_ratio"])
               for r in chart_data(charts, f"maps-{experience}", "maps")}
        assert got.keys() == want.keys()
        for name, values in want.items():
            assert got[name] == pytest.approx(values, rel=1e-9)

    # win rate by hour of day and day of week (UTC)
    for experience in experiences:
        ms = [m for m in matches if m["experience"] == experience]
        for name, key in (("hours", lambda m: m["start"].hour), ("weekdays", lambda m: m["start"].isoweekday())):
            groups: dict[int, list[dict]] = defaultdict(list)
            for m in ms:
                groups[key(m)].append(m)
            field = name[:-1] if name == "hours" else "weekday"
            assert [(r[field], r["matches"], r["wins"]) for r in chart_data(charts, f"hours-{experience}", name)] == \
                   [(g, len(groups[g]), sum(m["won"] for m in groups[g])) for g in sorted(groups)]

    # sessions: a gap over 120 minutes after a match's end opens one (all experiences), split by experience
    session_of, previous = {}, None
    for m in matches:
        if previous is None or m["start"] - previous["end"] > timedelta(minutes=120):
            current = m["match_id"]
        session_of[m["match_id"]] = current
        previous = m
    for experience in experiences:
        groups = defaultdict(list)
        for m in matches:
            if m["experience"] == experience:
                groups[session_of[m["match_id"]]].append(m)
        want = sorted((shown(ms[0]["start"]), sid, len(ms), sum(m["won"] for m in ms)) for sid, ms in groups.items())
        got = [(r["started_at"], r["session_id"], r["matches"], r["wins"])
               for r in chart_data(charts, f"sessions-{experience}", "sessions")]
        assert got == want

    # medals: the 15 most earned per experience (ties by medal id), English names from the medal metadata
    metadata = json.loads((root / "demo-source" / "reference" / "medal_metadata.json").read_bytes())
    names = {m["nameId"]: m["name"]["value"] for m in metadata["medals"]}
    for experience in experiences:
        counts: Counter = Counter()
        for m in matches:
            if m["experience"] == experience:
                counts.update(m["medals"])
        want = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
        got = chart_data(charts, f"medals-{experience}", "medals")
        assert [(r["medal_id"], r["count"]) for r in got] == want
        assert [r["name"] for r in got] == [names[medal] for medal, _ in want]

    # CSR after each ranked match (a playlist named Ranked...), per playlist, in order
    playlists = reference(root, "playlist")
    ranked = [m for m in matches if m["playlist"] and playlists[m["playlist"]]["PublicName"].startswith("Ranked")
              and m["csr"] is not None]
    assert ranked
    want = sorted((playlists[m["playlist"]]["PublicName"], shown(m["start"]), m["csr"]) for m in ranked)
    got = [(r["playlist"], r["start_time"], r["csr"]) for r in chart_data(charts, "csr-pvp_matchmade", "csr")]
    assert got == want
    bands = {r["tier"]: (r["from"], r["to"]) for r in chart_data(charts, "csr-pvp_matchmade", "tiers")}
    for m in ranked:  # every value lies in the band of the tier the API gave it
        tier = next(t for t, (low, high) in bands.items() if low <= m["csr"] < high)
        assert tier == ("Onyx" if m["csr"] >= 1500 else ("Bronze", "Silver", "Gold", "Platinum", "Diamond")[
            m["csr"] // 300])


def test_every_chart_is_valid_vega_lite(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    """The report builds its specs without Altair's validation (it is most of the time): the schema checks them here."""
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    root, _ = demo
    schema = load_schema()
    charts = page_charts(player_dir(GAMERTAG, root) / "report.html")
    assert len(charts) > 20
    for chart in charts:
        assert validate_jsonschema(chart["spec"], schema, raise_error=False) is None, chart["id"]


def test_long_histories_are_bucketed_as_defined(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    """With at most 7 points per series, each point stands for ceil(n / 7) consecutive matches
    (docs/definitions.md#report_points), its numbers summed over them by hand here."""
    root, _ = demo
    data = read_report_data(GAMERTAG, player_db_path(GAMERTAG, root), metadata_db_path(root), max_points=7)
    matches, _ = owner_matches(root)
    want = expected_timeline(matches, max_points=7)
    assert max(r["matches"] for r in want) > 1
    assert_rows_equal(data.datasets["timeline"], want)


def test_every_definition_link_reaches_a_heading(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, _ = demo
    text = (player_dir(GAMERTAG, root) / "report.html").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (\S+)$", (ROOT / "docs" / "definitions.md").read_text(), re.M))
    links = set(re.findall(r'href="#def-([^"]+)"', text))
    assert {"kd_ratio", "kda", "win_rate", "rolling_mean", "report_points", "csr_tier", "session"} <= links
    assert links <= headings
    assert {a for a in links if f'id="def-{a}"' not in text} == set()
    assert "docs/definitions.md#" not in re.sub(r"from docs/definitions.md#\w+", "", text)  # no dangling anchor


def test_all_out_french_and_png(demo: tuple[Path, subprocess.CompletedProcess], tmp_path: Path) -> None:
    root, _ = demo
    proc = halo(root, "report", "--all", "--out", str(tmp_path), "--lang", "fr", "--png")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = tmp_path / f"{player_dir(GAMERTAG, root).name}.html"
    picture = page.with_suffix(".png")
    assert proc.stdout.splitlines()[0].startswith(f"{GAMERTAG}: {page} (")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 20_000
    text = page.read_text(encoding="utf-8")
    assert '<html lang="fr">' in text and "Taux de victoire dans le temps" in text
    metadata = json.loads((root / "demo-source" / "reference" / "medal_metadata.json").read_bytes())
    french = {m["nameId"]: m["name"]["translations"]["fr-FR"] for m in metadata["medals"]}
    medals = chart_data(page_charts(page), "medals-pvp_matchmade", "medals")
    assert medals and [r["name"] for r in medals] == [french[r["medal_id"]] for r in medals]


def test_a_player_not_there_or_not_built_is_one_line(demo: tuple[Path, subprocess.CompletedProcess],
                                                     tmp_path: Path) -> None:
    root, _ = demo
    proc = halo(root, "report", "--player", "Nobody")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: no player 'Nobody' under {root / 'players'}: load their "
                                                "matches first"]
    bare = tmp_path / "data"
    folder = root / "demo-source" / "players" / GAMERTAG
    _, me = owner_matches(root)
    one = next(p for p in sorted(folder.glob("*.json"))
               if not p.name.startswith("skill_") and ".highlights" not in p.name)
    load = halo(bare, "load", "matches", "--player", "Loaded Only", "--xuid", me[5:-1], str(one))
    assert load.returncode == 0, load.stdout + load.stderr
    proc = halo(bare, "report", "--player", "Loaded Only")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: 'Loaded Only' is not built yet: run halo build --player "
                                                "'Loaded Only'"]


# ------------------------------------------------------------------ in the browser

def chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("Chromium is not installed (python3 run.py setup installs Debian's chromium when it can, as root)")


def test_the_page_draws_every_chart_offline_in_chromium(demo: tuple[Path, subprocess.CompletedProcess]) -> None:
    """Every chart drew marks in its SVG, the browser logged no error, and every request was the page itself."""
    browser = chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra: pip install -e "
                                                                  "'.[test]'")
    root, _ = demo
    page_path = player_dir(GAMERTAG, root) / "report.html"
    charts = page_charts(page_path)
    errors, requests = [], []
    with sync_api.sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=browser, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = chrome.new_page(viewport={"width": 1600, "height": 1000})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: errors.append(f"failed request {r.url}"))
            page.goto(page_path.as_uri())
            page.wait_for_function("document.body.dataset.drawn !== undefined", timeout=120_000)
            drawn = page.evaluate("[document.body.dataset.charts, document.body.dataset.drawn]")
            marks = page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('.vis')).map(
                d => [d.id.slice(4), d.querySelectorAll('svg g.role-mark > path, svg g.role-mark > rect, '
                      + 'svg g.role-mark > text, svg g.role-mark > line').length]))""")
            artifacts = ROOT / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / "report-demo-chief.png"), full_page=True)
            if os.environ.get("HALO_UPDATE_DOCS_IMAGES") == "1":  # the README's picture: the top of the page
                page.screenshot(path=str(ROOT / "docs" / "report.png"), full_page=True,
                                clip={"x": 0, "y": 0, "width": 1600, "height": 1900})
        finally:
            chrome.close()
    assert errors == []
    assert drawn == [str(len(charts))] * 2
    assert set(marks) == {c["id"] for c in charts}
    assert {chart_id: n for chart_id, n in marks.items() if n == 0} == {}
    expected = {f"{kind}-pvp_matchmade" for kind in ("kd", "kda", "win_rate", "csr", "maps", "modes", "sessions",
                                                      "hours", "medals", "medal-types", "antagonists", "teammates")}
    assert expected | {"career"} <= set(marks)
    assert requests and all(url.startswith(("file:", "data:")) for url in requests), requests
