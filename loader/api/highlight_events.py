"""Film highlight events: the decoded form of a film's highlight chunk.

The JSON form `{"MatchId", "FilmMajorVersion", "Events": [...]}` carries the same
fields as SPNKr's `HighlightEvent` (PascalCase or SPNKr's snake_case names).
"""

from typing import Literal
from uuid import UUID

from loader.api.base import ApiModel

EventType = Literal["kill", "death", "medal", "mode"]


class HighlightEvent(ApiModel):
    xuid: int
    gamertag: str
    type_hint: int
    is_medal: bool
    event_type: EventType
    time_ms: int
    medal_value: int
    medal_name: str | None = None


class HighlightEvents(ApiModel):
    match_id: UUID
    film_major_version: int
    events: tuple[HighlightEvent, ...]
