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
import pyarrow.compute as pc

from loader.ingest.documents import Accepted
from loader.ingest.raw_tables import CORE_COLUMNS, MODE_COLUMNS, SCHEMAS, SERVICE_RECORD_COLUMNS

MAX_FIELDS = {"max_killing_spree", "longest_time_as_skull_carrier", "longest_time_as_vip", "max_killing_spree_as_vip"}
LAST_FIELDS = {"elimination_order", "lives_remaining"}


def utc_naive(value: dt.datetime | None) -> dt.datetime | None:
    """Timestamps are stored as UTC without zone (DuckDB TIMESTAMP)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _plan(columns: list[tuple[str, str, pl.DataType]]) -> tuple[tuple[str, str, bool], ...]:
    """(field, column, is_duration): durations are the Float64 columns named `*_s`."""
    return tuple((field, column, column.endswith("_s") and dtype == pl.Float64()) for field, column, dtype in columns)


CORE_PLAN = _plan(CORE_COLUMNS)
MODE_PLANS = tuple((block, _plan(columns), dict.fromkeys(c for _, c, _ in columns))
                   for block, columns in MODE_COLUMNS.items())


def stats_columns(stats: dict[str, Any]) -> dict[str, Any]:
    """Core and mode-block columns of one validated `Stats` dict (mode columns null when the block is absent)."""
    core = stats["core_stats"]
    row = {column: core[field].total_seconds() if duration else core[field] for field, column, duration in CORE_PLAN}
    for block, plan, nulls in MODE_PLANS:
        data = stats[block]
        if data is None:
            row.update(nulls)
        else:
            row.update({column: data[field].total_seconds() if duration and data[field] is not None else data[field]
                        for field, column, duration in plan})
    return row


def summed_stats_columns(entries: tuple[dict[str, Any], ...], last_team_id: int) -> dict[str, Any]:
    """Stats of a player who played for several teams (`PlayerTeamStats` dicts), combined as the module docstring
    says."""
    rows = [stats_columns(entry["stats"]) for entry in entries]
    last = next((r for r, e in zip(rows, entries) if e["team_id"] == last_team_id), rows[-1])
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


def _asset(asset: dict[str, Any] | None, field: str) -> str | None:
    return None if asset is None else str(asset[field])


def skill_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    match_id = doc.doc_id
    for value in doc.model["value"]:
        result = value["result"]
        player_id = value["id"]
        xuid, _ = parse_player_id(player_id)
        row: dict[str, Any] = {"match_id": match_id, "player_id": player_id, "xuid": xuid,
                               "result_code": value["result_code"]}
        if result is not None:
            row.update(team_id=result["team_id"], team_mmr=result["team_mmr"])
            recap = result["rank_recap"]
            if recap is not None:
                for when, csr in (("pre", recap["pre_match_csr"]), ("post", recap["post_match_csr"])):
                    row.update({f"{when}_match_csr": csr["value"], f"{when}_match_csr_tier": csr["tier"],
                                f"{when}_match_csr_sub_tier": csr["sub_tier"],
                                f"{when}_match_csr_tier_start": csr["tier_start"],
                                f"{when}_match_measurement_matches_remaining": csr["measurement_matches_remaining"]})
            performances = result["stat_performances"]
            if performances is not None:
                for stat in ("kills", "deaths"):
                    perf = performances[stat]
                    row.update({f"{stat}_count": perf["count"], f"expected_{stat}": perf["expected"],
                                f"{stat}_std_dev": perf["std_dev"]})
            for team_id, mmr in (result["team_mmrs"] or {}).items():
                rows["match_skill_team_mmrs"].append({"match_id": match_id, "player_id": player_id,
                                                      "team_id": team_id, "mmr": mmr})
        rows["match_skill"].append(row)


def history_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    for result in doc.model["results"]:
        info = result["match_info"]
        rows["match_history"].append({
            "match_id": str(result["match_id"]), "history_doc_id": doc.doc_id,
            "start_time": utc_naive(info["start_time"]), "end_time": utc_naive(info["end_time"]),
            "game_variant_category": info["game_variant_category"],
            "playlist_asset_id": _asset(info["playlist"], "asset_id"),
            "map_asset_id": _asset(info["map_variant"], "asset_id"),
            "game_variant_asset_id": _asset(info["ugc_game_variant"], "asset_id"), "season_id": info["season_id"],
            "last_team_id": result["last_team_id"], "outcome": result["outcome"], "rank": result["rank"],
            "present_at_end_of_match": result["present_at_end_of_match"],
        })


def career_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    model = doc.model
    progress = model["current_progress"]
    rows["career_rank_snapshots"].append({
        "snapshot_id": doc.doc_id, "spartan_id": model["spartan_id"],
        "observed_at": utc_naive(model["observed_at"] or doc.source.mtime),
        "observed_at_source": "document" if model["observed_at"] else "file_mtime",
        "rank": progress["rank"], "partial_progress": progress["partial_progress"],
        "has_reached_max_rank": progress["has_reached_max_rank"],
    })


def _observed(doc: Accepted) -> tuple[dt.datetime | None, str]:
    """When a snapshot was taken: the document's `ObservedAt`, else the file's modification time."""
    observed = doc.model.get("observed_at")
    return (utc_naive(observed), "document") if observed else (utc_naive(doc.source.mtime), "file_mtime")


def service_record_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    model = doc.model
    observed_at, observed_source = _observed(doc)
    core = model["core_stats"]
    rows["service_record_snapshots"].append({
        "snapshot_id": doc.doc_id, "observed_at": observed_at, "observed_at_source": observed_source,
        "time_played_s": model["time_played"].total_seconds(), "matches_completed": model["matches_completed"],
        "wins": model["wins"], "losses": model["losses"], "ties": model["ties"],
        **{column: core[field] for field, column, _ in SERVICE_RECORD_COLUMNS},
    })


def playlist_csr_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    observed_at, observed_source = _observed(doc)
    for value in doc.model["value"]:
        xuid, _ = parse_player_id(value["id"])
        row: dict[str, Any] = {"snapshot_id": doc.doc_id, "playlist_asset_id": doc.model["playlist_asset_id"],
                               "observed_at": observed_at, "observed_at_source": observed_source,
                               "player_id": value["id"], "xuid": xuid, "result_code": value["result_code"]}
        for when in ("current", "season_max", "all_time_max"):
            csr = (value["result"] or {}).get(when)
            if csr is not None:
                row.update({f"{when}_csr": csr["value"], f"{when}_tier": csr["tier"],
                            f"{when}_sub_tier": csr["sub_tier"], f"{when}_tier_start": csr["tier_start"],
                            f"{when}_measurement_matches_remaining": csr["measurement_matches_remaining"]})
        rows["playlist_csr_snapshots"].append(row)


def profile_rows(doc: Accepted, rows: dict[str, list[dict[str, Any]]]) -> None:
    seen = utc_naive(doc.source.mtime)
    latest: dict[int, str] = {user["xuid"]: user["gamertag"] for user in doc.model["users"]}  # a repeat: the last
    rows["profile_users"].extend({"doc_id": doc.doc_id, "xuid": xuid, "gamertag": gamertag, "observed_at": seen}
                                 for xuid, gamertag in latest.items())


# ---------------------------------------------------------------------------------------------------------------
# Columnar flattening (the load's hot path): validated documents (the readers' dicts) become one Arrow table per raw
# table and chunk of documents, columns in the raw tables' order. Each row carries `_doc`, the position of its
# document in the load, so that the writer can keep exactly the rows of the documents it decides to write (the
# newest copy of a key, not an unchanged one). Timestamps go to Arrow as they are (Arrow stores aware datetimes as
# UTC, like `utc_naive`); durations are converted with `timedelta.total_seconds()` per value. Match stats are
# flattened column-wise (`match_tables`); the other kinds as row tuples transposed per chunk (`arrow_table`; skill,
# history and career rows reuse the dict builders above).

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
_MODE_GETS = tuple((block, _getter([f for f, _, _ in cols]), (None,) * len(cols))
                   for block, cols in MODE_COLUMNS.items())


def table_columns(table: str) -> tuple[str, ...]:
    """The columns a worker fills for `table`, in order (then `_doc`)."""
    return tuple(c for c in SCHEMAS[table] if c not in WRITER_COLUMNS)


_PLAYER_HEAD = ("match_id", "player_id", "xuid", "is_bot", "player_type", "bot_difficulty", "last_team_id", "outcome",
                "rank", "team_stats_entries", "first_joined_time", "last_leave_time", "present_at_beginning",
                "joined_in_progress", "left_in_progress", "present_at_completion", "time_played_s",
                "confirmed_participation")
assert table_columns("match_players") == _PLAYER_HEAD + STAT_COLUMN_NAMES
assert table_columns("match_teams") == ("match_id", "team_id", "outcome", "rank") + STAT_COLUMN_NAMES


# Match stats, the bulk of a load, are flattened straight into columns for a whole chunk of documents: the values of
# a field group (a player's head, participation, core stats, each mode block, awards) are taken with one
# `itemgetter` per object and transposed once, so there is almost no Python work per value.
_get = _operator.itemgetter
_AWARD_NAME = _get("name_id")
_PLAYER_GET = _get("player_type", "bot_attributes", "last_team_id", "outcome", "rank", "participation_info")
_ENTRIES = _get("player_team_stats")
_PARTICIPATION_GET = _get("first_joined_time", "last_leave_time", "present_at_beginning", "joined_in_progress",
                          "left_in_progress", "present_at_completion", "time_played", "confirmed_participation")
_PLAYER_ID, _CORE_STATS = _get("player_id"), _get("core_stats")
_TEAM_GET = _get("team_id", "outcome", "rank")
_STAT_TYPES = tuple(_ARROW_TYPES[type(SCHEMAS["match_players"][c])] for c in STAT_COLUMN_NAMES)
_STAT_SECONDS = tuple(c.endswith("_s") and SCHEMAS["match_players"][c] == pl.Float64() for c in STAT_COLUMN_NAMES)
_MODE_BLOCK_GETS = tuple((_get(block), get, nulls) for block, get, nulls in _MODE_GETS)


def _array(values: Any, arrow_type: pa.DataType, seconds: bool = False) -> pa.Array:
    return pa.array(_seconds(values) if seconds else values, type=arrow_type)


def _stats_arrays(stats: list[dict[str, Any]]) -> list[pa.Array]:
    """STAT_COLUMN_NAMES arrays of a list of `Stats` dicts (durations as seconds, absent mode blocks null)."""
    rows = len(stats)
    groups = [list(zip(*map(_CORE_GET, map(_CORE_STATS, stats)))) if rows else [()] * len(CORE_COLUMNS)]
    for block_get, get, nulls in _MODE_BLOCK_GETS:
        blocks = list(map(block_get, stats))
        absent = blocks.count(None)
        if absent == rows:
            groups.append([None] * len(nulls))
        elif absent == 0:
            groups.append(list(zip(*map(get, blocks))))
        else:
            groups.append(list(zip(*(nulls if b is None else get(b) for b in blocks))))
    arrays = []
    columns = (column for group in groups for column in group)
    for values, arrow_type, seconds in zip(columns, _STAT_TYPES, _STAT_SECONDS):
        arrays.append(pa.nulls(rows, arrow_type) if values is None else _array(values, arrow_type, seconds))
    return arrays


def _combined_stats(entries: tuple[dict[str, Any], ...], last_team_id: int) -> dict[str, Any]:
    """A `Stats`-shaped dict of a player's several team entries, combined by `summed_stats_columns`."""
    combined = summed_stats_columns(entries, last_team_id)
    stats: dict[str, Any] = {"core_stats": {field: combined[column] for field, column, _ in CORE_COLUMNS}}
    for block, columns in MODE_COLUMNS.items():
        stats[block] = {field: combined[column] for field, column, _ in columns}
    return stats


def match_tables(matches: list[tuple[int, dict[str, Any]]]) -> dict[str, pa.Table]:
    """The five match-stats tables (`table_columns` order plus `_doc`) of validated match-stats dicts, given with
    their load positions; `match_teams` only when some match has teams."""
    match_rows: list[tuple] = []
    team_rows: list[tuple] = []
    team_stats: list[dict[str, Any]] = []
    team_docs: list[int] = []
    players: list[dict[str, Any]] = []
    player_match_ids: list[str] = []
    player_docs: list[int] = []
    for doc, match in matches:
        match_id = str(match["match_id"])
        match_players = match["players"]
        count = len(match_players)
        players += match_players
        player_match_ids += [match_id] * count
        player_docs += [doc] * count
        for team in match["teams"]:
            team_rows.append((match_id, *_TEAM_GET(team)))
            team_stats.append(team["stats"])
            team_docs.append(doc)
        bots = sum(1 for player in match_players if player["player_id"].startswith("bid("))  # as parse_player_id
        info = match["match_info"]
        map_variant, game_variant = info["map_variant"], info["ugc_game_variant"]
        playlist, pair = info["playlist"], info["playlist_map_mode_pair"]
        match_rows.append((
            match_id, info["start_time"], info["end_time"], info["duration"], info["lifecycle_mode"],
            info["game_variant_category"], str(info["level_id"]),
            _asset(map_variant, "asset_id"), _asset(map_variant, "version_id"),
            _asset(game_variant, "asset_id"), _asset(game_variant, "version_id"),
            str(info["clearance_id"]),
            _asset(playlist, "asset_id"), _asset(playlist, "version_id"), info["playlist_experience"],
            _asset(pair, "asset_id"), _asset(pair, "version_id"),
            info["season_id"], info["playable_duration"], info["teams_enabled"],
            info["team_scoring_enabled"], info["gameplay_interaction"], len(match["teams"]), count, count - bots, doc,
        ))
    player_ids = list(map(_PLAYER_ID, players))
    entries = list(map(_ENTRIES, players))
    owners = (pa.array(player_match_ids, pa.string()), pa.array(player_ids, pa.string()),
              pa.array(player_docs, pa.int64()))
    tables = {"matches": arrow_table("matches", match_rows),
              "match_players": _players_table(players, player_ids, entries, owners)}
    for table, field in (("match_player_medals", "medals"), ("match_player_personal_scores", "personal_scores")):
        tables[table] = _awards_table(table, field, entries, owners)
    if team_rows:
        head = list(zip(*team_rows))
        tables["match_teams"] = _table("match_teams", [*head, *_stats_arrays(team_stats), team_docs])
    return tables


def _summed_awards(entries: tuple[dict[str, Any], ...], field: str) -> list[dict[str, int]]:
    """A player's awards of all team entries summed per NameId (also one entry listing a NameId twice)."""
    summed: dict[int, list[int]] = {}
    for entry in entries:
        for award in entry["stats"]["core_stats"][field]:
            total = summed.setdefault(award["name_id"], [0, 0])
            total[0] += award["count"]
            total[1] += award["total_personal_score_awarded"]
    return [{"name_id": name_id, "count": c, "total_personal_score_awarded": s} for name_id, (c, s) in summed.items()]


def _repeats_in_lists(names: pa.Array, index: pa.Array, lists: list) -> bool:
    """Whether some award list names a NameId twice (`names` flattened, `index` the list of each)."""
    if len(names) == 0:
        return False
    bounds = pc.min_max(names)
    if bounds["min"].as_py() >= 0 and bounds["max"].as_py() < 2**32:  # NameIds are unsigned 32-bit
        keys = pc.add(pc.shift_left(index, 32), names)  # (list, NameId) as one integer
        return pc.count_distinct(keys).as_py() != len(keys)
    return any(len(set(map(_AWARD_NAME, awards))) != len(awards) for awards in lists)


_AWARDS_TYPE = pa.list_(pa.struct([("name_id", pa.int64()), ("count", pa.int64()),
                                    ("total_personal_score_awarded", pa.int64())]))


def _flattened(lists: list) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """NameId, count and score of all awards of all lists in order (converted by Arrow straight from the award
    dicts), and the index of the list each comes from."""
    awards = pa.array(lists, type=_AWARDS_TYPE)
    names, counts, totals = awards.flatten().flatten()
    return names, counts, totals, awards.value_parent_indices()


def _awards_table(table: str, field: str, entries: list[tuple], owners: tuple[pa.Array, ...]) -> pa.Table:
    """Medal or personal-score rows of a chunk's players: one row per (player, NameId), in award order."""
    lists = [e[0]["stats"]["core_stats"][field] if len(e) == 1 else _summed_awards(e, field) for e in entries]
    names, counts, totals, index = _flattened(lists)
    if _repeats_in_lists(names, index, lists):
        lists = [awards if len(set(map(_AWARD_NAME, awards))) == len(awards) else _summed_awards(e, field)
                 for awards, e in zip(lists, entries)]
        names, counts, totals, index = _flattened(lists)
    match_ids, player_ids, docs = (column.take(index) for column in owners)
    return _table(table, [match_ids, player_ids, names, counts, totals, docs])


def _players_table(players: list[dict[str, Any]], player_ids: list[str], entries: list[tuple],
                   owners: tuple[pa.Array, ...]) -> pa.Table:
    match_ids, _, docs = owners
    xuids, is_bots = zip(*map(parse_player_id, player_ids)) if players else ((), ())
    head = list(zip(*map(_PLAYER_GET, players))) if players else [()] * 6
    player_type, bots, last_team_id, outcome, rank, participation = head
    stats = [e[0]["stats"] if len(e) == 1 else _combined_stats(e, last) for e, last in zip(entries, last_team_id)]
    parts = list(zip(*map(_PARTICIPATION_GET, participation))) if players else [()] * 8
    columns = [match_ids, player_ids, xuids, is_bots, player_type, [b["difficulty"] if b else None for b in bots],
               last_team_id, outcome, rank, list(map(len, entries)), *parts]
    return _table("match_players", [*columns, *_stats_arrays(stats), docs])


def _table(table: str, columns: list[Any]) -> pa.Table:
    """An Arrow table of `table_columns(table)` plus `_doc` from column values (lists or ready arrays)."""
    names = [*table_columns(table), DOC_COLUMN]
    schema = SCHEMAS[table]
    arrays = []
    for name, values in zip(names, columns, strict=True):
        if isinstance(values, pa.Array):
            arrays.append(values)
            continue
        dtype = schema.get(name, pl.Int64())
        arrays.append(_array(values, _ARROW_TYPES[type(dtype)], name.endswith("_s") and dtype == pl.Float64()))
    return pa.Table.from_arrays(arrays, names=names)


def _highlight_tuples(accepted: Accepted, doc: int, rows: dict[str, list[tuple]]) -> None:
    match_id = accepted.doc_id
    version = accepted.model["film_major_version"]
    seen: dict[tuple, int] = defaultdict(int)
    out = rows["highlight_events"]
    for index, event in enumerate(accepted.model["events"]):
        xuid, time_ms, event_type, medal_value = (event["xuid"], event["time_ms"], event["event_type"],
                                                  event["medal_value"])
        natural = (xuid, time_ms, event_type, medal_value)
        occurrence = seen[natural]
        seen[natural] += 1
        out.append((f"{match_id}:{xuid}:{time_ms}:{event_type}:{medal_value}:{occurrence}",
                    match_id, index, version, xuid, event["gamertag"], event_type, event["type_hint"],
                    time_ms, event["is_medal"], medal_value, event["medal_name"], doc))


_DICT_ROWS = {"match_skill": skill_rows, "match_history": history_rows, "career_rank": career_rows,
              "service_record": service_record_rows, "playlist_csr": playlist_csr_rows, "profile_users": profile_rows}


def flatten_tuples(docs: Iterable[tuple[int, Accepted]]) -> dict[str, list[tuple]]:
    """Rows (tuples in `table_columns` order plus `_doc`) of accepted documents other than match stats, given with
    their load positions."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    for doc, accepted in docs:
        if accepted.kind == "match_stats":
            raise ValueError("match stats are flattened by match_tables")
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


def flatten_tables(docs: Iterable[tuple[int, Accepted]]) -> dict[str, pa.Table]:
    """Arrow tables (`table_columns` order plus `_doc`) of accepted documents, given with their load positions."""
    docs = list(docs)
    matches = [(doc, accepted.model) for doc, accepted in docs if accepted.kind == "match_stats"]
    tables = match_tables(matches) if matches else {}
    others = flatten_tuples((doc, accepted) for doc, accepted in docs if accepted.kind != "match_stats")
    tables.update((table, arrow_table(table, rows)) for table, rows in others.items())
    return tables
