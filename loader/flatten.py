"""Flatten validated documents into rows of the raw tables (Arrow tables per batch of documents).

A player with several `PlayerTeamStats` entries (they changed teams) gets one
row: counts and durations are summed; maxima (`MaxKillingSpree`, `Longest*`)
take the maximum; `Accuracy` is recomputed as 100 * hits / shots and the
average life as the spawn-weighted mean; `EliminationOrder` and
`LivesRemaining` come from the entry of `LastTeamId`. The team is `LastTeamId`.
"""

import datetime as dt
import operator as _operator
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import polars as pl
import pyarrow as pa

from loader.models.match_stats import MatchStats, PlayerTeamStats, Stats
from loader.raw_tables import CORE_COLUMNS, MODE_COLUMNS, SCHEMAS
from loader.readers import Accepted

MAX_FIELDS = {"max_killing_spree", "longest_time_as_skull_carrier", "longest_time_as_vip", "max_killing_spree_as_vip"}
LAST_FIELDS = {"elimination_order", "lives_remaining"}


def utc_naive(value: dt.datetime | None) -> dt.datetime | None:
    """Timestamps are stored as UTC without zone (DuckDB TIMESTAMP)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _plan(columns: list[tuple[str, str, pl.DataType]]) -> tuple[tuple[str, str, bool], ...]:
    """(field, column, is_duration): durations are the Float64 columns named `*_s`."""
    return tuple((field, column, column.endswith("_s") and dtype == pl.Float64()) for field, column, dtype in columns)


CORE_PLAN = _plan(CORE_COLUMNS)
MODE_PLANS = tuple((block, _plan(columns), dict.fromkeys(c for _, c, _ in columns)) for block, columns in MODE_COLUMNS.items())


def stats_columns(stats: Stats) -> dict[str, Any]:
    """Core and mode-block columns of one stats object (mode columns null when the block is absent).

    Hot path (every player of every match): reads the models' `__dict__` with precomputed plans.
    """
    core = stats.core_stats.__dict__
    row = {column: core[field].total_seconds() if duration else core[field] for field, column, duration in CORE_PLAN}
    blocks = stats.__dict__
    for block, plan, nulls in MODE_PLANS:
        values = blocks[block]
        if values is None:
            row.update(nulls)
        else:
            data = values.__dict__
            row.update({column: data[field].total_seconds() if duration and data[field] is not None else data[field]
                        for field, column, duration in plan})
    return row


def summed_stats_columns(entries: tuple[PlayerTeamStats, ...], last_team_id: int) -> dict[str, Any]:
    """Stats of a player who played for several teams, combined as the module docstring says."""
    rows = [stats_columns(entry.stats) for entry in entries]
    last = next((r for r, e in zip(rows, entries) if e.team_id == last_team_id), rows[-1])
    fields = {column: field for field, column, _ in CORE_COLUMNS}
    fields.update({column: field for cols in MODE_COLUMNS.values() for field, column, _ in cols})
    out: dict[str, Any] = {}
    for column, field in fields.items():
        values = [r[column] for r in rows if r[column] is not None]
        if not values:
            out[column] = None
        elif field in MAX_FIELDS:
            out[column] = max(values)
        elif field in LAST_FIELDS:
            out[column] = last[column]
        else:
            out[column] = sum(values)
    fired = out["shots_fired"]
    out["accuracy"] = round(100.0 * out["shots_hit"] / fired, 2) if fired else 0.0
    spawns = out["spawns"]
    out["average_life_duration_s"] = (
        sum(r["average_life_duration_s"] * r["spawns"] for r in rows) / spawns if spawns else
        sum(r["average_life_duration_s"] for r in rows) / len(rows)
    )
    return out


def parse_player_id(player_id: str) -> tuple[int | None, bool]:
    """`xuid(2533…)` -> (2533…, False); `bid(8.0)` -> (None, True)."""
    if player_id.startswith("xuid(") and player_id.endswith(")"):
        digits = player_id[5:-1]
        if digits.isdigit():
            return int(digits), False
    return None, player_id.startswith("bid(")


def _asset(asset: Any, attr: str) -> str | None:
    return None if asset is None else str(getattr(asset, attr))


def skill_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    match_id = doc.doc_id
    for value in doc.model.value:
        result = value.result
        xuid, _ = parse_player_id(value.id)
        row: dict[str, Any] = {"match_id": match_id, "player_id": value.id, "xuid": xuid,
                               "result_code": value.result_code}
        if result is not None:
            row.update(team_id=result.team_id, team_mmr=result.team_mmr)
            if result.rank_recap is not None:
                for when, csr in (("pre", result.rank_recap.pre_match_csr), ("post", result.rank_recap.post_match_csr)):
                    row.update({f"{when}_match_csr": csr.value, f"{when}_match_csr_tier": csr.tier,
                                f"{when}_match_csr_sub_tier": csr.sub_tier, f"{when}_match_csr_tier_start": csr.tier_start,
                                f"{when}_match_measurement_matches_remaining": csr.measurement_matches_remaining})
            if result.stat_performances is not None:
                for stat in ("kills", "deaths"):
                    perf = getattr(result.stat_performances, stat)
                    row.update({f"{stat}_count": perf.count, f"expected_{stat}": perf.expected,
                                f"{stat}_std_dev": perf.std_dev})
            for team_id, mmr in (result.team_mmrs or {}).items():
                rows["match_skill_team_mmrs"].append({"match_id": match_id, "player_id": value.id,
                                                      "team_id": team_id, "mmr": mmr})
        rows["match_skill"].append(row)


def history_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    for result in doc.model.results:
        info = result.match_info
        rows["match_history"].append({
            "match_id": str(result.match_id), "history_doc_id": doc.doc_id,
            "start_time": utc_naive(info.start_time), "end_time": utc_naive(info.end_time),
            "game_variant_category": info.game_variant_category,
            "playlist_asset_id": _asset(info.playlist, "asset_id"), "map_asset_id": _asset(info.map_variant, "asset_id"),
            "game_variant_asset_id": _asset(info.ugc_game_variant, "asset_id"), "season_id": info.season_id,
            "last_team_id": result.last_team_id, "outcome": result.outcome, "rank": result.rank,
            "present_at_end_of_match": result.present_at_end_of_match,
        })


def career_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    model = doc.model
    rows["career_rank_snapshots"].append({
        "snapshot_id": doc.doc_id, "spartan_id": model.spartan_id,
        "observed_at": utc_naive(model.observed_at or doc.source.mtime),
        "observed_at_source": "document" if model.observed_at else "file_mtime",
        "rank": model.current_progress.rank, "partial_progress": model.current_progress.partial_progress,
        "has_reached_max_rank": model.current_progress.has_reached_max_rank,
    })


# ---------------------------------------------------------------------------------------------------------------
# Columnar flattening (the load's hot path): rows as tuples in the raw tables' column order, transposed once per
# chunk into Arrow arrays. Each row carries `_doc`, the position of its document in the load, so that the writer
# can keep exactly the rows of the documents it decides to write (the newest copy of a key, not an unchanged one).
# Timestamps go to Arrow as they are (Arrow stores aware datetimes as UTC, like `utc_naive`); durations are
# converted with `timedelta.total_seconds()` per value (skill, history and career rows reuse the dict builders above).

DOC_COLUMN = "_doc"
# Columns the writer fills itself (the batch's load time), not the workers.
WRITER_COLUMNS = frozenset({"loaded_at"})
_ARROW_TYPES = {pl.Utf8: pa.string(), pl.Int64: pa.int64(), pl.Float64: pa.float64(), pl.Boolean: pa.bool_(),
                pl.Binary: pa.binary(), pl.Datetime: pa.timestamp("us")}
STAT_COLUMN_NAMES = tuple(c for cols in [CORE_COLUMNS, *MODE_COLUMNS.values()] for _, c, _ in cols)


def _getter(fields: list[str]) -> Any:
    get = _operator.itemgetter(*fields)
    return get if len(fields) > 1 else (lambda d: (get(d),))


_CORE_GET = _getter([f for f, _, _ in CORE_COLUMNS])
_MODE_GETS = tuple((block, _getter([f for f, _, _ in cols]), (None,) * len(cols)) for block, cols in MODE_COLUMNS.items())


def stats_tuple(stats: Stats) -> tuple:
    """Core and mode-block values of one stats object in STAT_COLUMN_NAMES order (durations still timedelta)."""
    blocks = stats.__dict__
    out = _CORE_GET(stats.core_stats.__dict__)
    for block, get, nulls in _MODE_GETS:
        values = blocks[block]
        out += nulls if values is None else get(values.__dict__)
    return out


def table_columns(table: str) -> tuple[str, ...]:
    """The columns a worker fills for `table`, in order (then `_doc`)."""
    return tuple(c for c in SCHEMAS[table] if c not in WRITER_COLUMNS)


_PLAYER_HEAD = ("match_id", "player_id", "xuid", "is_bot", "player_type", "bot_difficulty", "last_team_id", "outcome",
                "rank", "team_stats_entries", "first_joined_time", "last_leave_time", "present_at_beginning",
                "joined_in_progress", "left_in_progress", "present_at_completion", "time_played_s",
                "confirmed_participation")
assert table_columns("match_players") == _PLAYER_HEAD + STAT_COLUMN_NAMES
assert table_columns("match_teams") == ("match_id", "team_id", "outcome", "rank") + STAT_COLUMN_NAMES


def _match_tuples(match: MatchStats, doc: int, rows: dict[str, list[tuple]]) -> None:
    info = match.match_info
    match_id = str(match.match_id)
    humans = 0
    players = rows["match_players"]
    medals = rows["match_player_medals"]
    scores = rows["match_player_personal_scores"]
    for player in match.players:
        xuid, is_bot = parse_player_id(player.player_id)
        humans += not is_bot
        part = player.participation_info
        entries = player.player_team_stats
        if len(entries) == 1:
            stats = stats_tuple(entries[0].stats)
        else:
            combined = summed_stats_columns(entries, player.last_team_id)
            stats = tuple(combined[c] for c in STAT_COLUMN_NAMES)
        bot = player.bot_attributes
        players.append((
            match_id, player.player_id, xuid, is_bot, player.player_type, bot.difficulty if bot else None,
            player.last_team_id, player.outcome, player.rank, len(entries), part.first_joined_time,
            part.last_leave_time, part.present_at_beginning, part.joined_in_progress, part.left_in_progress,
            part.present_at_completion, part.time_played.total_seconds(), part.confirmed_participation,
        ) + stats + (doc,))
        player_id = player.player_id
        for out, attr in ((medals, "medals"), (scores, "personal_scores")):
            if len(entries) == 1:
                awards = getattr(entries[0].stats.core_stats, attr)
                if len({a.name_id for a in awards}) == len(awards):
                    out.extend((match_id, player_id, a.name_id, a.count, a.total_personal_score_awarded, doc)
                               for a in awards)
                    continue
            summed: dict[int, list[int]] = {}
            for entry in entries:
                for award in getattr(entry.stats.core_stats, attr):
                    total = summed.setdefault(award.name_id, [0, 0])
                    total[0] += award.count
                    total[1] += award.total_personal_score_awarded
            out.extend((match_id, player_id, name_id, c, s, doc) for name_id, (c, s) in summed.items())
    for team in match.teams:
        rows["match_teams"].append((match_id, team.team_id, team.outcome, team.rank) + stats_tuple(team.stats) + (doc,))
    rows["matches"].append((
        match_id, info.start_time, info.end_time, info.duration.total_seconds(), info.lifecycle_mode,
        info.game_variant_category, str(info.level_id),
        _asset(info.map_variant, "asset_id"), _asset(info.map_variant, "version_id"),
        _asset(info.ugc_game_variant, "asset_id"), _asset(info.ugc_game_variant, "version_id"),
        str(info.clearance_id),
        _asset(info.playlist, "asset_id"), _asset(info.playlist, "version_id"), info.playlist_experience,
        _asset(info.playlist_map_mode_pair, "asset_id"), _asset(info.playlist_map_mode_pair, "version_id"),
        info.season_id, info.playable_duration.total_seconds(), info.teams_enabled, info.team_scoring_enabled,
        info.gameplay_interaction, len(match.teams), len(match.players), humans, doc,
    ))


def _highlight_tuples(accepted: Accepted, doc: int, rows: dict[str, list[tuple]]) -> None:
    match_id = accepted.doc_id
    version = accepted.model.film_major_version
    seen: dict[tuple, int] = defaultdict(int)
    out = rows["highlight_events"]
    for index, event in enumerate(accepted.model.events):
        natural = (event.xuid, event.time_ms, event.event_type, event.medal_value)
        occurrence = seen[natural]
        seen[natural] += 1
        out.append((f"{match_id}:{event.xuid}:{event.time_ms}:{event.event_type}:{event.medal_value}:{occurrence}",
                    match_id, index, version, event.xuid, event.gamertag, event.event_type, event.type_hint,
                    event.time_ms, event.is_medal, event.medal_value, event.medal_name, doc))


_DICT_ROWS = {"match_skill": skill_rows, "match_history": history_rows, "career_rank": career_rows}


def flatten_tuples(docs: Iterable[tuple[int, Accepted]]) -> dict[str, list[tuple]]:
    """Rows (tuples in `table_columns` order plus `_doc`) of accepted documents, given with their load positions."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    for doc, accepted in docs:
        if accepted.kind == "match_stats":
            _match_tuples(accepted.model, doc, rows)
        elif accepted.kind == "highlight_events":
            _highlight_tuples(accepted, doc, rows)
        else:
            dict_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
            _DICT_ROWS[accepted.kind](accepted, dict_rows)
            for table, table_rows in dict_rows.items():
                columns = table_columns(table)
                rows[table].extend(tuple(r.get(c) for c in columns) + (doc,) for r in table_rows)
    return rows


def _seconds(values: tuple) -> list:
    return [v.total_seconds() if isinstance(v, dt.timedelta) else v for v in values]


def arrow_table(table: str, rows: list[tuple]) -> pa.Table:
    """Transpose one table's row tuples into an Arrow table with the raw schema's types (plus `_doc`)."""
    columns = table_columns(table)
    schema = SCHEMAS[table]
    transposed = list(zip(*rows)) if rows else [()] * (len(columns) + 1)
    arrays, names = [], []
    for name, values in zip(columns, transposed):
        dtype = schema[name]
        if name.endswith("_s") and dtype == pl.Float64():
            values = _seconds(values)
        arrays.append(pa.array(values, type=_ARROW_TYPES[type(dtype)]))
        names.append(name)
    arrays.append(pa.array(transposed[-1], type=pa.int64()))
    names.append(DOC_COLUMN)
    return pa.Table.from_arrays(arrays, names=names)
