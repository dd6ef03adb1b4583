"""Match skill (`GET /hi/matches/{id}/skill`): CSR before/after, MMRs, expected kills/deaths.

The response does not name its match: the reader takes the match id from a
top-level `MatchId` (added by tools that wrap the response) or from the file name.
"""

from uuid import UUID

from loader.api.base import ApiModel


class Csr(ApiModel):
    value: int
    measurement_matches_remaining: int
    tier: str
    tier_start: int
    sub_tier: int
    next_tier: str
    next_tier_start: int
    next_sub_tier: int
    initial_measurement_matches: int


class RankRecap(ApiModel):
    pre_match_csr: Csr
    post_match_csr: Csr


class StatPerformance(ApiModel):
    count: int
    expected: float
    std_dev: float


class StatPerformances(ApiModel):
    kills: StatPerformance
    deaths: StatPerformance


class MatchSkillResult(ApiModel):
    """Skill of one player. RankRecap is null outside ranked play; TeamMmrs maps team id -> MMR."""

    team_mmr: float
    rank_recap: RankRecap | None = None
    stat_performances: StatPerformances | None = None
    team_id: int
    team_mmrs: dict[int, float] | None = None


class MatchSkillValue(ApiModel):
    id: str
    result_code: int
    result: MatchSkillResult | None = None


class MatchSkill(ApiModel):
    match_id: UUID | None = None
    value: tuple[MatchSkillValue, ...]
