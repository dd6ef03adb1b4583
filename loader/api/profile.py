"""Profile lookups (`GET profile.xboxlive.com/users?xuids=...`, SPNKr's `get_users_by_id`): XUID -> gamertag.

SPNKr's response is a JSON list of users (`xuid`, `gamertag`, `gamerpic`, lower-case keys); a single-user lookup
(`get_user_by_id`, `get_user_by_gamertag`) is one such object. The reader wraps either as `{"users": [...]}`. The
time a gamertag was seen is the file's modification time (the lookup carries none).
"""

from pydantic import BaseModel, ConfigDict, Field


class ProfileUser(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    xuid: int = Field(ge=0, le=10**17 - 1)
    gamertag: str = Field(min_length=1, max_length=64)


class ProfileUsers(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    users: tuple[ProfileUser, ...]
