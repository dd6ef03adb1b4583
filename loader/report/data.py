"""The datasets a player's report draws, read from the built marts (read-only), PvP apart from PvE.

Every dataset is a list of plain rows (dicts of str, int, float, bool or None; times as ISO-8601 text), the
exact rows the page embeds. Each row of a per-experience dataset carries its `experience`
(docs/definitions.md#experience): the page draws one set of charts per experience and never adds them up.

Long histories are kept small (docs/definitions.md#report_points): a series over matches has at most
`MAX_POINTS` points per experience (or per ranked playlist); past that each point is a bucket of consecutive
matches, its K/D from the bucket's summed kills and deaths, its KDA and win rate the bucket's means, its CSR and
rolling means those after the bucket's last match. Sessions: the latest `MAX_SESSIONS` per experience.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from loader.warehouse.players import open_for_reading

MAX_POINTS = 1000  # points of a per-match series (per experience, per playlist); more matches are bucketed
MAX_SESSIONS = 200  # the latest sessions per experience
ROLLING_MATCHES = 20  # the rolling means' window (docs/definitions.md#rolling_mean)
TOP_MEDALS = 15
TOP_BARS = 25  # maps and modes: the most played, per experience
TOP_PEOPLE = 10  # nemeses, favourite victims, teammates
MIN_MATCHES_TOGETHER = 5  # a teammate needs this many matches on your team to be ranked by win rate together

# The CSR tiers' ranges (docs/definitions.md#csr_tier): Onyx has no upper bound (drawn to the chart's top).
CSR_TIER_BANDS = (("Bronze", 0, 300), ("Silver", 300, 600), ("Gold", 600, 900), ("Platinum", 900, 1200),
                  ("Diamond", 1200, 1500), ("Onyx", 1500, None))

# The per-match history of each experience, numbered in order of start time (then match id), with the rolling
# means over the match and the 19 before it (fewer at the start).
_HISTORY = f"""
    SELECT experience, match_id, start_time, kills, deaths, kda, kd_ratio, outcome,
           CASE WHEN outcome = 2 THEN 1.0 ELSE 0.0 END AS won,
           row_number() OVER (PARTITION BY experience ORDER BY start_time, match_id) AS n,
           count(*) OVER (PARTITION BY experience) AS total,
           sum(kills) OVER w AS rolling_kills, sum(deaths) OVER w AS rolling_deaths,
           avg(kda) OVER w AS rolling_kda, avg(CASE WHEN outcome = 2 THEN 1.0 ELSE 0.0 END) OVER w AS rolling_win
    FROM main.match_stats
    WINDOW w AS (PARTITION BY experience ORDER BY start_time, match_id
                 ROWS BETWEEN {ROLLING_MATCHES - 1} PRECEDING AND CURRENT ROW)"""

QUERIES = {
    "timeline": f"""
        WITH h AS ({_HISTORY}),
        b AS (SELECT *, (n - 1) // ceil(total / $max_points)::BIGINT AS bucket FROM h)
        SELECT experience, min(n) AS first_match, max(n) AS last_match, count(*) AS matches,
               min(start_time) AS start_time,
               CASE WHEN sum(deaths) = 0 THEN sum(kills)::DOUBLE ELSE sum(kills) / sum(deaths) END AS kd_ratio,
               avg(kda) AS kda, avg(won) AS win_rate,
               arg_max(CASE WHEN rolling_deaths = 0 THEN rolling_kills::DOUBLE
                            ELSE rolling_kills / rolling_deaths END, n) AS rolling_kd_ratio,
               arg_max(rolling_kda, n) AS rolling_kda, arg_max(rolling_win, n) AS rolling_win_rate
        FROM b GROUP BY experience, bucket ORDER BY experience, first_match""",
    "csr": """
        WITH r AS (
            SELECT experience, playlist_asset_id, coalesce(playlist_name, playlist_asset_id) AS playlist,
                   start_time, match_id, post_match_csr, post_match_csr_sub_tier_name,
                   row_number() OVER p AS n, count(*) OVER (PARTITION BY experience, playlist_asset_id) AS total
            FROM main.match_stats
            WHERE is_ranked AND post_match_csr IS NOT NULL
            WINDOW p AS (PARTITION BY experience, playlist_asset_id ORDER BY start_time, match_id)
        ), b AS (SELECT *, (n - 1) // ceil(total / $max_points)::BIGINT AS bucket FROM r)
        SELECT experience, playlist_asset_id, any_value(playlist) AS playlist, count(*) AS matches,
               max(start_time) AS start_time, arg_max(post_match_csr, n) AS csr,
               arg_max(post_match_csr_sub_tier_name, n) AS tier
        FROM b GROUP BY experience, playlist_asset_id, bucket ORDER BY experience, playlist, start_time""",
    "maps": f"""
        SELECT experience, coalesce(map_name, map_asset_id) AS map, matches, wins, win_rate, kd_ratio
        FROM main.mv_map_stats
        QUALIFY row_number() OVER (PARTITION BY experience ORDER BY matches DESC, map) <= {TOP_BARS}
        ORDER BY experience, win_rate DESC, matches DESC, map""",
    "modes": f"""
        SELECT experience, coalesce(mode_name, CAST(game_variant_category AS VARCHAR)) AS mode, matches, wins,
               win_rate, kd_ratio
        FROM main.mv_mode_stats
        QUALIFY row_number() OVER (PARTITION BY experience ORDER BY matches DESC, mode) <= {TOP_BARS}
        ORDER BY experience, win_rate DESC, matches DESC, mode""",
    "sessions": f"""
        SELECT experience, session_id, started_at, matches, wins, win_rate, kd_ratio, csr_change
        FROM main.sessions
        QUALIFY row_number() OVER (PARTITION BY experience ORDER BY started_at DESC, session_id) <= {MAX_SESSIONS}
        ORDER BY experience, started_at, session_id""",
    # hours and days in UTC (docs/definitions.md#durations: timestamps are UTC); isodow: 1 Monday .. 7 Sunday
    "hours": """
        SELECT experience, hour(start_time) AS hour, count(*) AS matches,
               count(*) FILTER (WHERE outcome = 2) AS wins, avg(CASE WHEN outcome = 2 THEN 1.0 ELSE 0.0 END) AS
               win_rate
        FROM main.match_stats GROUP BY ALL ORDER BY experience, hour""",
    "weekdays": """
        SELECT experience, isodow(start_time) AS weekday, count(*) AS matches,
               count(*) FILTER (WHERE outcome = 2) AS wins, avg(CASE WHEN outcome = 2 THEN 1.0 ELSE 0.0 END) AS
               win_rate
        FROM main.match_stats GROUP BY ALL ORDER BY experience, weekday""",
    # medals_earned has no experience of its own: a medal's is its match's
    "medals": f"""
        SELECT s.experience, e.medal_id, any_value(e.name_en) AS name_en, any_value(e.name_fr) AS name_fr,
               any_value(e.type) AS type, any_value(e.difficulty) AS difficulty, sum(e.count) AS count
        FROM main.medals_earned e JOIN main.match_stats s USING (owner_xuid, match_id)
        GROUP BY s.experience, e.medal_id
        QUALIFY row_number() OVER (PARTITION BY s.experience ORDER BY sum(e.count) DESC, e.medal_id) <= {TOP_MEDALS}
        ORDER BY s.experience, count DESC, e.medal_id""",
    "medal_types": """
        SELECT s.experience, coalesce(e.type, 'unknown') AS type, coalesce(e.difficulty, 'unknown') AS difficulty,
               sum(e.count) AS count
        FROM main.medals_earned e JOIN main.match_stats s USING (owner_xuid, match_id)
        GROUP BY ALL ORDER BY experience, type, difficulty""",
    "nemeses": f"""
        SELECT experience, opponent_xuid, coalesce(gamertag, 'xuid(' || opponent_xuid || ')') AS player,
               times_killed_by, times_killed, net_kills, matches_against
        FROM main.antagonists WHERE times_killed_by > 0
        QUALIFY row_number() OVER (PARTITION BY experience
                                   ORDER BY times_killed_by DESC, net_kills, opponent_xuid) <= {TOP_PEOPLE}
        ORDER BY experience, times_killed_by DESC, net_kills, opponent_xuid""",
    "victims": f"""
        SELECT experience, opponent_xuid, coalesce(gamertag, 'xuid(' || opponent_xuid || ')') AS player,
               times_killed, times_killed_by, net_kills, matches_against
        FROM main.antagonists WHERE times_killed > 0
        QUALIFY row_number() OVER (PARTITION BY experience
                                   ORDER BY times_killed DESC, net_kills DESC, opponent_xuid) <= {TOP_PEOPLE}
        ORDER BY experience, times_killed DESC, net_kills DESC, opponent_xuid""",
    "teammates": f"""
        SELECT experience, teammate_xuid, coalesce(gamertag, 'xuid(' || teammate_xuid || ')') AS player,
               matches_together, wins_together, win_rate_together
        FROM main.teammates_aggregate WHERE matches_together >= {MIN_MATCHES_TOGETHER}
        QUALIFY row_number() OVER (PARTITION BY experience
                                   ORDER BY win_rate_together DESC, matches_together DESC, teammate_xuid)
                <= {TOP_PEOPLE}
        ORDER BY experience, win_rate_together DESC, matches_together DESC, teammate_xuid""",
    "career": """
        SELECT observed_at, rank, title, tier, grade, cumulative_xp, is_max_rank
        FROM main.career_progression
        QUALIFY row_number() OVER (ORDER BY observed_at DESC, snapshot_id) <= $max_points
        ORDER BY observed_at, snapshot_id""",
    "record": "SELECT experience, matches, wins, win_rate, kills, deaths, kd_ratio, avg_kda FROM main.mv_global_stats "
              "ORDER BY experience",
    "hero_xp": "SELECT min(cumulative_xp) FROM meta.main.career_ranks WHERE is_max_rank",
}

# Per-experience datasets, in the order the page shows them.
PER_EXPERIENCE = ("timeline", "csr", "maps", "modes", "sessions", "hours", "weekdays", "medals", "medal_types",
                  "nemeses", "victims", "teammates")


@dataclass
class ReportData:
    """Every dataset of one player's report (rows as the page embeds them)."""

    gamertag: str
    datasets: dict[str, list[dict]] = field(default_factory=dict)
    hero_xp: int | None = None

    def experiences(self) -> list[str]:
        """The experiences the player has matches in, PvP matchmade first."""
        order = {"pvp_matchmade": 0, "pvp_custom": 1, "pve": 2}
        found = {row["experience"] for row in self.datasets.get("record", [])}
        return sorted(found, key=lambda e: (order.get(e, 9), e))

    def rows(self, name: str, experience: str) -> list[dict]:
        return [row for row in self.datasets[name] if row["experience"] == experience]


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")  # UTC, no zone: the page shows the times as stored
    if isinstance(value, date):
        return value.isoformat()
    return value


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, max_points: int) -> list[dict]:
    result = con.execute(sql, {"max_points": max_points} if "$max_points" in sql else [])
    names = [column[0] for column in result.description]
    return [{name: _plain(value) for name, value in zip(names, row)} for row in result.fetchall()]


def read_report_data(gamertag: str, database: Path, metadata_db: Path, max_points: int = MAX_POINTS) -> ReportData:
    """Read a built player database (read-only; the metadata attached as `meta` for the career track).
    `max_points` caps the per-match series (docs/definitions.md#report_points).
    Raises duckdb.CatalogException when the marts are not built."""
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    with open_for_reading(database, metadata_db) as con:
        data = ReportData(gamertag, {name: _fetch(con, sql, max_points) for name, sql in QUERIES.items()
                                     if name != "hero_xp"})
        if metadata_db.is_file():
            try:
                data.hero_xp = con.execute(QUERIES["hero_xp"]).fetchall()[0][0]
            except duckdb.CatalogException:  # reference data loaded but its models not built: no Hero bar
                data.hero_xp = None
    data.datasets["csr_tiers"] = [{"tier": tier, "from": low, "to": high} for tier, low, high in CSR_TIER_BANDS]
    return data
