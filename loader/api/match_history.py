"""Match history pages (`GET /hi/players/{player}/matches`): 25 results per page, newest first."""

from uuid import UUID

from loader.api.base import ApiModel
from loader.api.match_stats import MatchInfo


class MatchHistoryResult(ApiModel):
    """One match as the history page shows it, from the owner's point of view."""

    match_id: UUID
    match_info: MatchInfo
    last_team_id: int
    outcome: int
    rank: int
    present_at_end_of_match: bool


class MatchHistory(ApiModel):
    start: int
    count: int
    result_count: int
    results: tuple[MatchHistoryResult, ...]
