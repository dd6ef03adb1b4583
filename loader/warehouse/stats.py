"""What `halo stats` shows a player, read from the built marts (PvP apart from PvE: see docs/definitions.md)."""

from dataclasses import dataclass, field
from pathlib import Path

from loader.warehouse.players import open_for_reading

MIN_MATCHES_FOR_RATES = 3  # a map, mode or teammate needs this many matches before its win rate ranks it

QUERIES = {
    "record": "SELECT experience, matches, wins, losses, ties, win_rate, kills, deaths, kd_ratio, avg_kda "
              "FROM main.mv_global_stats ORDER BY experience",
    # CSR per ranked playlist: the latest value and tier, and the highest of the latest season played there
    "csr": """
        WITH ranked AS (
            SELECT playlist_asset_id, playlist_name, season, start_time, post_match_csr,
                   post_match_csr_sub_tier_name AS tier
            FROM main.match_stats WHERE is_ranked AND post_match_csr IS NOT NULL
        ), latest AS (
            SELECT playlist_asset_id, any_value(playlist_name) AS playlist_name,
                   arg_max(post_match_csr, start_time) AS csr, arg_max(tier, start_time) AS tier,
                   arg_max(season, start_time) AS season
            FROM ranked GROUP BY playlist_asset_id
        )
        SELECT coalesce(latest.playlist_name, latest.playlist_asset_id), latest.csr, latest.tier,
               max(ranked.post_match_csr), arg_max(ranked.tier, ranked.post_match_csr)
        FROM latest JOIN ranked USING (playlist_asset_id, season)
        GROUP BY ALL ORDER BY 1""",
    "maps": "SELECT coalesce(map_name, map_asset_id), matches, win_rate, kd_ratio FROM main.mv_map_stats "
            "WHERE experience = 'pvp_matchmade' AND matches >= ? ORDER BY win_rate DESC, matches DESC, 1 LIMIT 5",
    "modes": "SELECT coalesce(mode_name, CAST(game_variant_category AS VARCHAR)), matches, win_rate, kd_ratio "
             "FROM main.mv_mode_stats WHERE experience = 'pvp_matchmade' AND matches >= ? "
             "ORDER BY win_rate DESC, matches DESC, 1 LIMIT 5",
    # nemesis and favourite victim: only opponents with kills between you (kills by player come from films; an
    # opponent met in matches without a loaded film has 0 both ways and is neither)
    "nemesis": "SELECT coalesce(gamertag, 'xuid(' || opponent_xuid || ')'), times_killed_by, times_killed "
               "FROM main.antagonists WHERE experience = 'pvp_matchmade' AND times_killed_by > 0 "
               "ORDER BY times_killed_by DESC, net_kills, opponent_xuid LIMIT 1",
    "victim": "SELECT coalesce(gamertag, 'xuid(' || opponent_xuid || ')'), times_killed, times_killed_by "
              "FROM main.antagonists WHERE experience = 'pvp_matchmade' AND times_killed > 0 "
              "ORDER BY times_killed DESC, net_kills DESC, opponent_xuid LIMIT 1",
    "teammates": "SELECT coalesce(gamertag, 'xuid(' || teammate_xuid || ')'), matches_together, win_rate_together "
                 "FROM main.teammates_aggregate WHERE experience = 'pvp_matchmade' AND matches_together >= ? "
                 "ORDER BY win_rate_together DESC, matches_together DESC, teammate_xuid LIMIT 3",
    "career": "SELECT rank, title, tier, grade, cumulative_xp, is_max_rank FROM main.career_progression "
              "ORDER BY observed_at DESC LIMIT 1",
    "hero_xp": "SELECT cumulative_xp FROM meta.main.career_ranks WHERE is_max_rank",
}


@dataclass
class PlayerStats:
    """The rows behind one screen of `halo stats` (each list as its query returns it)."""

    record: list[tuple] = field(default_factory=list)
    csr: list[tuple] = field(default_factory=list)
    maps: list[tuple] = field(default_factory=list)
    modes: list[tuple] = field(default_factory=list)
    nemesis: tuple | None = None
    victim: tuple | None = None
    teammates: list[tuple] = field(default_factory=list)
    career: tuple | None = None
    hero_xp: int | None = None


def player_stats(database: Path, metadata_db: Path) -> PlayerStats:
    """Read the screen's rows from a built player database (metadata attached for the career track)."""
    with open_for_reading(database, metadata_db) as con:
        def rows(name: str, *params: object) -> list[tuple]:
            return con.execute(QUERIES[name], list(params)).fetchall()

        hero = rows("hero_xp") if metadata_db.is_file() else []
        return PlayerStats(
            record=rows("record"), csr=rows("csr"),
            maps=rows("maps", MIN_MATCHES_FOR_RATES), modes=rows("modes", MIN_MATCHES_FOR_RATES),
            nemesis=next(iter(rows("nemesis")), None), victim=next(iter(rows("victim")), None),
            teammates=rows("teammates", MIN_MATCHES_FOR_RATES), career=next(iter(rows("career")), None),
            hero_xp=hero[0][0] if hero else None)
