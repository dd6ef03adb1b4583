"""Service record (`GET /hi/players/{player}/Matchmade/servicerecord`): a player's lifetime totals.

The response does not name its player: it is the owner's (the file is loaded with `--player`). `ObservedAt` is
ours, as in career rank: when the record was fetched (else the file's modification time).
"""

import datetime as dt

from pydantic import Field

from loader.api.base import ApiModel


class ServiceRecordCoreStats(ApiModel):
    """Lifetime totals common to every mode (the medal and personal-score lists are kept in the raw bytes)."""

    score: int
    personal_score: int
    rounds_won: int
    rounds_lost: int
    rounds_tied: int
    kills: int
    deaths: int
    assists: int
    average_kda: float = Field(alias="AverageKDA")
    suicides: int
    betrayals: int
    grenade_kills: int
    headshot_kills: int
    melee_kills: int
    power_weapon_kills: int
    shots_fired: int
    shots_hit: int
    accuracy: float
    damage_dealt: int
    damage_taken: int
    callout_assists: int
    vehicle_destroys: int
    driver_assists: int
    hijacks: int
    emp_assists: int
    max_killing_spree: int
    spawns: int
    objectives_completed: int


class ServiceRecord(ApiModel):
    time_played: dt.timedelta
    matches_completed: int
    wins: int
    losses: int
    ties: int
    core_stats: ServiceRecordCoreStats
    observed_at: dt.datetime | None = None
