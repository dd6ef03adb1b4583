"""`halo demo`: generate demo players, load them, build every warehouse and the docs, then summarise."""

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loader.core.paths import player_db_path
from loader.demo import generate_demo
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference
from loader.report.page import ReportFiles, report_player
from loader.warehouse.build import build_players
from loader.warehouse.dbt_runner import BuildOutcome, DbtProject


@dataclass
class PlayerSummary:
    """The short text summary a player reads first."""

    gamertag: str
    database: Path
    matches: int
    win_rate: float | None
    top_map: str | None
    nemesis: str | None
    nemesis_kills: int | None
    best_teammate: str | None
    best_teammate_win_rate: float | None


@dataclass
class DemoResult:
    source_dir: Path
    metadata: BuildOutcome | None
    builds: list[BuildOutcome]
    docs: BuildOutcome | None
    summaries: list[PlayerSummary]
    reports: list[ReportFiles]
    rejected: int
    seconds: float


SUMMARY_SQL = {
    # PvP matchmade only: no summary mixes games against AI or custom games in (docs/definitions.md#experience)
    "global": "SELECT matches, win_rate FROM main.mv_global_stats WHERE experience = 'pvp_matchmade'",
    # Most played map; ties broken by the better win rate, then the name.
    "top_map": "SELECT map_name FROM main.mv_map_stats WHERE map_name IS NOT NULL AND experience = 'pvp_matchmade' "
               "ORDER BY matches DESC, win_rate DESC, map_name LIMIT 1",
    # Nemesis: the opponent who killed the owner most often.
    "nemesis": "SELECT coalesce(gamertag, 'xuid(' || opponent_xuid || ')'), times_killed_by FROM main.antagonists "
               "WHERE experience = 'pvp_matchmade' AND times_killed_by > 0 "
               "ORDER BY times_killed_by DESC, net_kills, opponent_xuid LIMIT 1",
    # Best teammate: highest win rate together over at least 5 matches together, then the most matches.
    "teammate": "SELECT coalesce(gamertag, 'xuid(' || teammate_xuid || ')'), win_rate_together "
                "FROM main.teammates_aggregate WHERE matches_together >= 5 AND experience = 'pvp_matchmade' "
                "ORDER BY win_rate_together DESC, matches_together DESC, teammate_xuid LIMIT 1",
}


def summarise_player(gamertag: str, database: Path) -> PlayerSummary:
    with duckdb.connect(str(database), read_only=True) as con:
        matches, win_rate = (con.execute(SUMMARY_SQL["global"]).fetchall() or [(0, None)])[0]
        top_map = (con.execute(SUMMARY_SQL["top_map"]).fetchall() or [(None,)])[0][0]
        nemesis, nemesis_kills = (con.execute(SUMMARY_SQL["nemesis"]).fetchall() or [(None, None)])[0]
        mate, mate_rate = (con.execute(SUMMARY_SQL["teammate"]).fetchall() or [(None, None)])[0]
    return PlayerSummary(gamertag, database, matches, win_rate, top_map, nemesis, nemesis_kills, mate, mate_rate)


def run_demo(root: Path, players: int = 3, matches_per_player: int = 300, seed: int = 7,
             docs: bool = True) -> DemoResult:
    """Generate into `root/demo-source`, load reference + matches, build all, generate docs."""
    started = time.perf_counter()
    source = root / "demo-source"
    if source.exists():
        shutil.rmtree(source)  # regenerated deterministically from the seed
    manifest = generate_demo(source, players=players, matches_per_player=matches_per_player, seed=seed)
    rejected = load_reference([manifest.reference_dir], root=root).counts.rejected
    for gamertag, xuid, folder in manifest.players:
        rejected += load_matches(gamertag, [folder], xuid=xuid, root=root).counts.rejected
    gamertags = [gamertag for gamertag, _, _ in manifest.players]
    metadata, builds = build_players(gamertags, root)
    docs_outcome = DbtProject(root).docs_generate(player_db_path(gamertags[0], root)) if docs else None
    summaries = [summarise_player(b.name, player_db_path(b.name, root)) for b in builds if b.success]
    reports = [report_player(b.name, root=root) for b in builds if b.success]  # players/<player-dir>/report.html
    return DemoResult(source, metadata, builds, docs_outcome, summaries, reports, rejected,
                      time.perf_counter() - started)


