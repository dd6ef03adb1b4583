"""Film highlight events against their match's stats, where both are known: at the end of a load.

A film chunk is read alone (`readers._read_film_chunk` checks what its bytes alone can tell: the version in its name,
printable gamertags). Whether its events belong to its match needs the match's stats, which may come in the same
load (another batch) or be in the player's database already, or arrive in a later load; so the check runs once per
load, inside its transaction, in SQL over the stored rows of the matches the load touched (films or stats): every
event's XUID must be a human player of the match, every event time within [0, duration + slack], and each human's
kill and death events as many as the stats count (within a tolerance; in games against AI only "not more"). A film
failing it is moved to `raw.rejected` (its bytes and the reason), whether it came in this load or an earlier one.
The work is one aggregate query (rows per match and player, not per event) and a loop over those rows.
"""

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import duckdb

from loader.ingest import raw_tables
from loader.ingest.documents import Rejected, Source
from loader.ingest.writer import BatchCounts, DocKey, insert_rejected

# An event may come a little after the match's stats end it (the film runs on while the scores are shown).
TIME_SLACK_S = 120
FILM_KIND = "highlight_events"


def count_tolerance(count: int) -> int:
    """SPNKr: a highlight chunk occasionally misses a kill or death of the stats ("typically only one"); beyond this
    many, per player and per count, the chunk does not hold that match's events."""
    return max(2, count // 10)


# Games against AI (minigame, firefight: spnkr GameVariantCategory 41, 42): killing AI records no highlight event,
# so missing kill and death events are expected there; only the checks that hold everywhere apply.
PVE_CATEGORIES = frozenset({41, 42})

# One row per (match, XUID) of the films of the touched matches whose stats are stored: the film's event counts
# and the stats' kills and deaths (NULL on the side that lacks the XUID).
_PER_PLAYER = """
WITH films AS (
    SELECT DISTINCT e.match_id FROM raw.highlight_events e JOIN raw.matches m ON m.match_id = e.match_id
    WHERE e.match_id IN (SELECT unnest($touched::VARCHAR[]))),
ev AS (
    SELECT match_id, xuid, count(*) AS events, count(*) FILTER (WHERE event_type = 'kill') AS kill_events,
           count(*) FILTER (WHERE event_type = 'death') AS death_events, min(time_ms) AS first_ms,
           max(time_ms) AS last_ms
    FROM raw.highlight_events WHERE match_id IN (SELECT match_id FROM films) GROUP BY match_id, xuid),
humans AS (
    SELECT match_id, xuid, kills, deaths FROM raw.match_players
    WHERE match_id IN (SELECT match_id FROM films) AND xuid IS NOT NULL)
SELECT coalesce(ev.match_id, h.match_id) AS match_id, coalesce(ev.xuid, h.xuid) AS xuid,
       coalesce(ev.events, 0), coalesce(ev.kill_events, 0), coalesce(ev.death_events, 0), ev.first_ms, ev.last_ms,
       h.xuid IS NOT NULL, h.kills, h.deaths, m.duration_s, m.game_variant_category
FROM ev FULL JOIN humans h ON h.match_id = ev.match_id AND h.xuid = ev.xuid
JOIN raw.matches m ON m.match_id = coalesce(ev.match_id, h.match_id)
ORDER BY 1, 2
"""


def _problem(rows: list[tuple]) -> str | None:
    """Why a match's film (its per-XUID rows of `_PER_PLAYER`) does not hold that match's events, or None."""
    humans = sum(1 for row in rows if row[7])
    events = sum(row[2] for row in rows)
    foreign = [row for row in rows if row[2] and not row[7]]
    if foreign:
        return (f"{sum(row[2] for row in foreign)} of its {events} events name {len(foreign)} XUID(s) that are not "
                f"among the {humans} human players of the match in its stats (e.g. xuid({foreign[0][1]}))")
    duration_s, category = rows[0][10], rows[0][11]
    times = [row for row in rows if row[2]]
    first_ms, last_ms = min(row[5] for row in times), max(row[6] for row in times)
    if first_ms < 0:
        return f"an event has the negative time {first_ms} ms"
    if duration_s is not None and last_ms > (duration_s + TIME_SLACK_S) * 1000:
        return (f"an event at {last_ms / 1000:.3f} s comes after the match's end ({duration_s:.3f} s in its stats, "
                f"plus {TIME_SLACK_S} s)")
    for _, xuid, _, kill_events, death_events, _, _, _, kills, deaths, _, _ in rows:
        for what, found, stated in (("kill", kill_events, kills), ("death", death_events, deaths)):
            stated = stated or 0
            if found > stated + count_tolerance(stated) or (
                    category not in PVE_CATEGORIES and found < stated - count_tolerance(stated)):
                return (f"it has {found} {what} events of xuid({xuid}), whose {what}s in the match's stats are "
                        f"{stated} (at most {count_tolerance(stated)} may differ)")
    return None


def _reason(match_id: str, problem: str) -> str:
    return (f"film highlight events of match {match_id} do not belong to that match: {problem}; the chunk is another "
            f"match's (name it <FilmMajorVersion>_<its match id>.gzip) or corrupt: re-download the film of match "
            f"{match_id}")


def reject_foreign_films(con: duckdb.DuckDBPyConnection, keys: Iterable[DocKey], films_before: dict[str, str],
                         counts: BatchCounts) -> list[Rejected]:
    """Check the films of the matches `keys` (this load's accepted documents) touch against the stored stats; move
    the failing ones to raw.rejected. `films_before` (film doc_id -> sha256 stored before the load) tells how each
    moved film was counted by this load (loaded, replaced or unchanged), which `counts` then gives back."""
    keys = list(keys)
    touched = sorted({k.doc_id for k in keys if k.kind in (FILM_KIND, "match_stats")})
    if not touched:
        return []
    by_match: dict[str, list[tuple]] = {}
    for row in con.execute(_PER_PLAYER, {"touched": touched}).fetchall():
        by_match.setdefault(row[0], []).append(row)
    reasons = {match_id: _reason(match_id, problem) for match_id, rows in by_match.items()
               if (problem := _problem(rows)) is not None}
    if not reasons:
        return []
    ids = sorted(reasons)
    stored = con.execute("SELECT doc_id, source_path, source_mtime, sha256, body FROM raw.documents "
                         "WHERE kind = ? AND doc_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY doc_id",
                         [FILM_KIND, ids]).fetchall()
    con.execute("DELETE FROM raw.highlight_events WHERE match_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    con.execute("DELETE FROM raw.documents WHERE kind = ? AND doc_id IN (SELECT unnest(?::VARCHAR[]))",
                [FILM_KIND, ids])
    this_load = {(k.doc_id, k.sha256) for k in keys if k.kind == FILM_KIND}
    rejected: list[Rejected] = []
    for doc_id, source_path, mtime, sha, body in stored:
        source = Source(path=Path(source_path), data=bytes(body), mtime=mtime.replace(tzinfo=dt.UTC))
        rejected.append(Rejected(source, reasons[doc_id], FILM_KIND, doc_id))
        counts.rejected += 1
        if (doc_id, sha) not in this_load:
            continue  # stored by an earlier load; its stats came now
        before = films_before.get(doc_id)
        if before == sha:
            counts.unchanged -= 1
            continue
        if before is None:
            counts.loaded -= 1
        else:
            counts.replaced -= 1
        counts.loaded_by_kind[FILM_KIND] = counts.loaded_by_kind.get(FILM_KIND, 0) - 1
        if not counts.loaded_by_kind[FILM_KIND]:
            del counts.loaded_by_kind[FILM_KIND]
    insert_rejected(con, rejected, dt.datetime.now(dt.UTC).replace(tzinfo=None), raw_tables.SCHEMAS["rejected"])
    return rejected
