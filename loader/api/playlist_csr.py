"""Playlist CSR (`GET /hi/playlist/{playlist}/csrs?players=...`): current, season max and all-time max CSR.

The response names its players (`Value[].Id`) but not its playlist: the reader takes the playlist id from a
top-level `PlaylistId` (added by tools that wrap the response) or from the file name (e.g.
`csr_<playlist-id>.json`); without either the snapshot's playlist is unknown (null). `ObservedAt` is ours: when
it was fetched (else the file's modification time).
"""

import datetime as dt
from uuid import UUID

from loader.api.base import ApiModel
from loader.api.match_skill import Csr


class PlaylistCsrResult(ApiModel):
    current: Csr
    season_max: Csr
    all_time_max: Csr


class PlaylistCsrValue(ApiModel):
    id: str
    result_code: int
    result: PlaylistCsrResult | None = None


class PlaylistCsr(ApiModel):
    playlist_id: UUID | None = None
    observed_at: dt.datetime | None = None
    value: tuple[PlaylistCsrValue, ...]
