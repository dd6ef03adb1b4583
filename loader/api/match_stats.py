"""Match stats (`GET /hi/matches/{id}/stats`): match info, teams and players.

Field sets follow the captured responses in shared/fixtures and SPNKr's
`spnkr.models.stats` (for the mode blocks the fixtures do not contain:
Extraction, Stockpile, Vip, Bomb). A field is optional only where real data
shows it missing or null.
"""

import datetime as dt
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field

from loader.api.base import ApiModel


class Asset(ApiModel):
    """A versioned UGC asset reference (map, game variant, playlist, map-mode pair)."""

    asset_kind: int
    asset_id: UUID
    version_id: UUID


# Real season ids are short paths (`Csr/Seasons/CsrSeason9-1.json`, `Seasons/Season6.json`: under 40 characters);
# the season names a folder of the player's archive, and a folder name has at most 255 bytes.
MAX_SEASON_ID_CHARS = 64


def _season_id_fits(value: str) -> str:
    if len(value) > MAX_SEASON_ID_CHARS:
        raise ValueError(f"SeasonId is {len(value)} characters; at most {MAX_SEASON_ID_CHARS}")
    return value


SeasonId = Annotated[str, AfterValidator(_season_id_fits)]


class MatchInfo(ApiModel):
    """When, where and how the match was played. Playlist fields are null in custom games."""

    start_time: dt.datetime
    end_time: dt.datetime
    duration: dt.timedelta
    lifecycle_mode: int
    game_variant_category: int
    level_id: UUID
    map_variant: Asset
    ugc_game_variant: Asset
    clearance_id: UUID
    playlist: Asset | None = None
    playlist_experience: int | None = None
    playlist_map_mode_pair: Asset | None = None
    season_id: SeasonId | None = None
    playable_duration: dt.timedelta
    teams_enabled: bool
    team_scoring_enabled: bool
    gameplay_interaction: int


class AwardCount(ApiModel):
    """A medal or personal-score award: NameIds reach 4,294,967,295 (stored as BIGINT)."""

    name_id: int
    count: int
    total_personal_score_awarded: int


class CoreStats(ApiModel):
    """Stats common to every mode."""

    score: int
    personal_score: int
    rounds_won: int
    rounds_lost: int
    rounds_tied: int
    kills: int
    deaths: int
    assists: int
    kda: float = Field(alias="KDA")
    suicides: int
    betrayals: int
    average_life_duration: dt.timedelta
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
    medals: tuple[AwardCount, ...]
    personal_scores: tuple[AwardCount, ...]
    deprecated_damage_dealt: float | None = None
    deprecated_damage_taken: float | None = None
    spawns: int
    objectives_completed: int


class PvpStats(ApiModel):
    kills: int
    deaths: int
    assists: int
    kda: float = Field(alias="KDA")


class PveStats(ApiModel):
    kills: int
    deaths: int
    assists: int
    kda: float = Field(alias="KDA")
    marine_kills: int
    grunt_kills: int
    jackal_kills: int
    elite_kills: int
    brute_kills: int
    hunter_kills: int
    skimmer_kills: int
    sentinel_kills: int
    boss_kills: int


class CaptureTheFlagStats(ApiModel):
    flag_capture_assists: int
    flag_captures: int
    flag_carriers_killed: int
    flag_grabs: int
    flag_returners_killed: int
    flag_returns: int
    flag_secures: int
    flag_steals: int
    kills_as_flag_carrier: int
    kills_as_flag_returner: int
    time_as_flag_carrier: dt.timedelta


class EliminationStats(ApiModel):
    allies_revived: int
    elimination_assists: int
    eliminations: int
    enemy_revives_denied: int
    executions: int
    kills_as_last_player_standing: int
    last_players_standing_killed: int
    rounds_survived: int
    times_revived_by_ally: int
    lives_remaining: int | None = None
    elimination_order: int


class ExtractionStats(ApiModel):
    extraction_conversions_completed: int
    extraction_conversions_denied: int
    extraction_initiations_completed: int
    extraction_initiations_denied: int
    successful_extractions: int


class InfectionStats(ApiModel):
    alphas_killed: int
    spartans_infected: int
    spartans_infected_as_alpha: int
    kills_as_last_spartan_standing: int
    last_spartans_standing_infected: int
    rounds_as_alpha: int
    rounds_as_last_spartan_standing: int
    rounds_finished_as_infected: int
    rounds_survived_as_spartan: int
    rounds_survived_as_last_spartan_standing: int
    time_as_last_spartan_standing: dt.timedelta
    infected_killed: int


class OddballStats(ApiModel):
    kills_as_skull_carrier: int
    longest_time_as_skull_carrier: dt.timedelta
    skull_carriers_killed: int
    skull_grabs: int
    time_as_skull_carrier: dt.timedelta
    skull_scoring_ticks: int


class ZonesStats(ApiModel):
    stronghold_captures: int
    stronghold_defensive_kills: int
    stronghold_offensive_kills: int
    stronghold_secures: int
    stronghold_occupation_time: dt.timedelta
    stronghold_scoring_ticks: int


class StockpileStats(ApiModel):
    kills_as_power_seed_carrier: int
    power_seeds_deposited: int
    power_seeds_stolen: int
    power_seed_carriers_killed: int
    time_as_power_seed_carrier: dt.timedelta
    time_as_power_seed_driver: dt.timedelta


class VipStats(ApiModel):
    kills_as_vip: int
    longest_time_as_vip: dt.timedelta
    max_killing_spree_as_vip: int
    time_as_vip: dt.timedelta
    times_selected_as_vip: int
    vip_assists: int
    vip_kills: int


class BombStats(ApiModel):
    bomb_carriers_killed: int
    bomb_defusals: int
    bomb_defusers_killed: int
    bomb_detonations: int
    bomb_pick_ups: int
    bomb_plants: int
    bomb_returns: int
    kills_as_bomb_carrier: int
    time_as_bomb_carrier: dt.timedelta


class Stats(ApiModel):
    """Core stats plus the mode blocks the match's mode produced."""

    core_stats: CoreStats
    pvp_stats: PvpStats | None = None
    pve_stats: PveStats | None = None
    capture_the_flag_stats: CaptureTheFlagStats | None = None
    elimination_stats: EliminationStats | None = None
    extraction_stats: ExtractionStats | None = None
    infection_stats: InfectionStats | None = None
    oddball_stats: OddballStats | None = None
    zones_stats: ZonesStats | None = None
    stockpile_stats: StockpileStats | None = None
    vip_stats: VipStats | None = None
    bomb_stats: BombStats | None = None


# Mode blocks in a fixed order, with the column prefix used in raw tables.
MODE_BLOCKS: dict[str, str] = {
    "pvp_stats": "pvp",
    "pve_stats": "pve",
    "capture_the_flag_stats": "ctf",
    "elimination_stats": "elimination",
    "extraction_stats": "extraction",
    "infection_stats": "infection",
    "oddball_stats": "oddball",
    "zones_stats": "zones",
    "stockpile_stats": "stockpile",
    "vip_stats": "vip",
    "bomb_stats": "bomb",
}


class TeamStats(ApiModel):
    team_id: int
    outcome: int
    rank: int
    stats: Stats


class BotAttributes(ApiModel):
    difficulty: int


class ParticipationInfo(ApiModel):
    first_joined_time: dt.datetime
    last_leave_time: dt.datetime | None = None
    present_at_beginning: bool
    joined_in_progress: bool
    left_in_progress: bool
    present_at_completion: bool
    time_played: dt.timedelta
    confirmed_participation: bool | None = None


class PlayerTeamStats(ApiModel):
    team_id: int
    stats: Stats


class PlayerStats(ApiModel):
    """One player (human `xuid(N)` or bot `bid(N.0)`); several team entries if they changed teams."""

    player_id: str
    player_type: int
    bot_attributes: BotAttributes | None = None
    last_team_id: int
    outcome: int
    rank: int
    participation_info: ParticipationInfo
    player_team_stats: tuple[PlayerTeamStats, ...] = Field(min_length=1)


class MatchStats(ApiModel):
    """A whole match-stats document. `Teams` is empty in free-for-all modes such as Infection."""

    match_id: UUID
    match_info: MatchInfo
    teams: tuple[TeamStats, ...]
    players: tuple[PlayerStats, ...] = Field(min_length=1)
