"""Reference documents: medal metadata, career reward track, season calendars, translation files.

Field sets mirror SPNKr's `gamecms_hacs` models. Code fields (difficulty and type
indexes) are plain integers: an index the game adds tomorrow is data, not an error.
The UGC discovery assets (maps, playlists, ...) live in `loader.api.ugc_assets`.
"""

import datetime as dt
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from loader.api.base import ApiModel

MedalId = Annotated[int, Field(ge=0, le=4_294_967_295)]


def to_camel(name: str) -> str:
    """`sorting_weight` -> `sortingWeight` (the medal metadata's key spelling)."""
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


class CamelApiModel(ApiModel):
    """Like ApiModel, for the documents whose keys are camelCase (gamecms_hacs medal metadata)."""

    model_config = ConfigDict(alias_generator=to_camel)


class PlainApiModel(ApiModel):
    """Like ApiModel, for hand-made files whose keys are already the field names (translations)."""

    model_config = ConfigDict(alias_generator=None)


# --- medal metadata (`GET /hi/Waypoint/file/medals/metadata.json`) ---------------------------------


class TranslatableString(CamelApiModel):
    value: str
    translations: dict[str, str]


class Medal(CamelApiModel):
    """One medal; `difficulty_index` / `type_index` point into the document's `difficulties` / `types`."""

    name_id: MedalId
    name: TranslatableString
    description: TranslatableString
    sprite_index: int
    sorting_weight: int
    difficulty_index: int
    type_index: int
    personal_score: int


class SpriteSheet(CamelApiModel):
    path: str
    columns: int
    size: int


class SpriteSheets(CamelApiModel):
    small: SpriteSheet
    medium: SpriteSheet
    extra_large: SpriteSheet = Field(alias="extra-large")


class MedalMetadata(CamelApiModel):
    difficulties: tuple[str, ...]
    types: tuple[str, ...]
    sprites: SpriteSheets
    medals: tuple[Medal, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_medal_ids(self) -> "MedalMetadata":
        seen: set[int] = set()
        for medal in self.medals:
            if medal.name_id in seen:
                raise ValueError(f"medal nameId {medal.name_id} appears twice; each medal must be listed once")
            seen.add(medal.name_id)
        return self


# --- career reward track (`GET /hi/progression/file/RewardTracks/CareerRanks/careerRank1.json`) -----


class TranslatableStringWithStatus(CamelApiModel):
    status: str
    value: str
    translations: dict[str, str]


class InventoryReward(ApiModel):
    inventory_item_path: str
    amount: int
    type: str


class CurrencyReward(ApiModel):
    currency_path: str
    amount: int


class RankRewards(ApiModel):
    inventory_rewards: tuple[InventoryReward, ...]
    currency_rewards: tuple[CurrencyReward, ...]


class CareerRewardTrackRank(ApiModel):
    """`xp_required_for_rank`: XP to earn inside this rank to reach the next one."""

    rank: int = Field(ge=1)
    free_rewards: RankRewards
    paid_rewards: RankRewards
    xp_required_for_rank: int = Field(ge=0)
    rank_title: TranslatableStringWithStatus
    rank_sub_title: TranslatableStringWithStatus
    rank_tier: TranslatableStringWithStatus
    rank_icon: str
    rank_large_icon: str
    rank_adornment_icon: str
    tier_type: str
    rank_grade: int


class CareerRewardTrack(ApiModel):
    """The ranks must run 1..N without gaps: cumulative XP is computed from them."""

    track_id: str
    ranks: tuple[CareerRewardTrackRank, ...] = Field(min_length=1)
    name: TranslatableStringWithStatus
    description: TranslatableStringWithStatus
    operation_number: int
    date_range: TranslatableStringWithStatus
    is_ritual: bool
    summary_image_path: str
    week_number: int | None
    xp_per_rank: int

    @model_validator(mode="after")
    def _ranks_run_from_one(self) -> "CareerRewardTrack":
        numbers = sorted(r.rank for r in self.ranks)
        if numbers != list(range(1, len(numbers) + 1)):
            missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
            duplicated = sorted({n for n in numbers if numbers.count(n) > 1})
            raise ValueError(f"Ranks must be numbered 1..{len(numbers)} once each "
                             f"(missing {missing[:5]}, duplicated {duplicated[:5]})")
        return self


# --- season calendars (`GET /hi/progression/file/Calendars/Seasons/SeasonCalendar.json`, CSR calendar) --


class Date(ApiModel):
    value: dt.datetime = Field(alias="ISO8601Date")


class CsrSeason(ApiModel):
    """`csr_season_file_path` like `Csr/Seasons/CsrSeason9-1.json`; its stem is the season key."""

    csr_season_file_path: str
    start_date: Date
    end_date: Date


class CsrSeasonCalendar(ApiModel):
    seasons: tuple[CsrSeason, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_seasons(self) -> "CsrSeasonCalendar":
        _check_unique([s.csr_season_file_path for s in self.seasons], "CsrSeasonFilePath")
        return self


class Season(ApiModel):
    csr_season_file_path: str
    operation_track_path: str
    season_metadata: str
    start_date: Date
    end_date: Date


class Event(ApiModel):
    reward_track_path: str
    start_date: Date
    end_date: Date


class CareerRankLink(ApiModel):
    reward_track_path: str


class SeasonCalendar(ApiModel):
    seasons: tuple[Season, ...] = Field(min_length=1)
    events: tuple[Event, ...]
    career_rank: CareerRankLink

    @model_validator(mode="after")
    def _unique_seasons(self) -> "SeasonCalendar":
        _check_unique([s.season_metadata for s in self.seasons], "SeasonMetadata")
        return self


def _check_unique(values: list[str], field: str) -> None:
    duplicated = sorted({v for v in values if values.count(v) > 1})
    if duplicated:
        raise ValueError(f"Seasons: {field} {duplicated[0]!r} appears more than once; each season must be listed once")


# --- translation files (ours, hand-made) -------------------------------------------------------------


class PlaylistTranslation(PlainApiModel):
    en: str
    fr: str
    uuid: UUID


class ModeTranslation(PlainApiModel):
    """A map-mode pair's English `PublicName`, its French name and its mode category."""

    en: str
    fr: str
    category: str


class PlaylistModesTranslations(PlainApiModel):
    """`Playlist_modes_translations.json`; `categories` maps a mode category to its French name."""

    playlists: tuple[PlaylistTranslation, ...]
    modes: tuple[ModeTranslation, ...]
    categories: dict[str, str]


class MedalNames(RootModel[dict[MedalId, str]]):
    """`medals_<language>.json`: medal NameId -> name in that language."""

    model_config = ConfigDict(frozen=True)


REFERENCE_MODELS: dict[str, type[BaseModel]] = {
    "medal_metadata": MedalMetadata,
    "career_reward_track": CareerRewardTrack,
    "season_calendar": SeasonCalendar,
    "csr_season_calendar": CsrSeasonCalendar,
    "playlist_mode_translations": PlaylistModesTranslations,
    "medal_names": MedalNames,
}
