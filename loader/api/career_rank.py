"""Career-rank snapshot (`GET /hi/players/{player}/rewardtracks/careerranks/careerrank1`)."""

import datetime as dt

from loader.api.base import ApiModel


class CareerProgress(ApiModel):
    rank: int
    partial_progress: int
    has_reached_max_rank: bool


class CareerRank(ApiModel):
    """`ObservedAt` is ours: when the snapshot was taken (else the file's modification time)."""

    current_progress: CareerProgress
    spartan_id: str | None = None
    observed_at: dt.datetime | None = None
