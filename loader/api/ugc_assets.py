"""UGC discovery assets (`GET /hi/{kind}/{asset}/versions/{version}`): maps, playlists, map-mode pairs,
game variants. Field sets mirror SPNKr's `discovery_ugc` models; enum codes are plain integers.
"""

from typing import Any
from uuid import UUID

from loader.api.base import ApiModel


class OnlineUriReference(ApiModel):
    authority_id: str
    path: str
    query_string: str | None
    retry_policy_id: str
    topic_name: str
    acknowledgement_type_id: int
    authentication_lifetime_extension_supported: bool
    clearance_aware: bool


class AssetFiles(ApiModel):
    prefix: str
    file_relative_paths: tuple[str, ...]
    prefix_endpoint: OnlineUriReference


class AssetStats(ApiModel):
    plays_recent: int
    plays_all_time: int
    favorites: int
    likes: int
    bookmarks: int
    parent_asset_count: int
    average_rating: float | None
    number_of_ratings: int


class Asset(ApiModel):
    """What every asset has; `public_name` is the English name players see."""

    asset_id: UUID
    version_id: UUID
    public_name: str
    description: str
    files: AssetFiles
    contributors: tuple[str, ...]
    asset_home: int
    asset_stats: AssetStats
    inspection_result: int
    clone_behavior: int
    order: int


class MapCustomData(ApiModel):
    num_of_objects_on_map: int
    tag_level_id: int
    is_baked: bool
    has_node_graph: bool


class Map(Asset):
    custom_data: MapCustomData
    tags: tuple[str, ...]
    prefab_links: tuple[Asset, ...] | None


class RotationWeight(ApiModel):
    weight: float


class RotationEntry(Asset):
    """A map-mode pair of a playlist's rotation, with its weight."""

    metadata: RotationWeight


class PlaylistEntry(ApiModel):
    map_mode_pair_asset_id: UUID
    metadata: RotationWeight


class PlaylistCustomData(ApiModel):
    playlist_entries: tuple[PlaylistEntry, ...]
    strategy: int
    min_teams: int
    min_team_size: int
    max_teams: int
    max_team_size: int
    max_team_imbalance: int
    max_splitscreen_players_allowed: int
    allow_friend_join_in_progress: bool
    allow_matchmaking_join_in_progress: bool
    allow_bot_join_in_progress: bool
    exit_experience_duration_sec: int
    fireteam_leader_kick_allowed: bool
    disable_midgame_chat: bool
    allowed_device_inputs: tuple[int, ...]
    bot_difficulty: int
    min_fireteam_size: int
    max_fireteam_size: int


class Playlist(Asset):
    custom_data: PlaylistCustomData
    tags: tuple[str, ...]
    rotation_entries: tuple[RotationEntry, ...]

    @property
    def is_ranked(self) -> bool:
        """Ranked when its name or a tag says so, or every map-mode pair of its rotation is `Ranked:...`.

        The API has no ranked flag on playlists; these are the signals its data carries.
        """
        if self.public_name.strip().lower().startswith("ranked"):
            return True
        if any(tag.strip().lower() == "ranked" for tag in self.tags):
            return True
        return bool(self.rotation_entries) and all(
            entry.public_name.strip().lower().startswith("ranked:") for entry in self.rotation_entries)


class MapModePair(Asset):
    custom_data: dict[str, Any]
    tags: tuple[str, ...]
    map_link: Asset | None
    ugc_game_variant_link: Asset


class UgcGameVariantCustomData(ApiModel):
    key_values: dict[str, Any]


class UgcGameVariant(Asset):
    custom_data: UgcGameVariantCustomData
    tags: tuple[str, ...]
    engine_game_variant_link: Asset


UGC_MODELS: dict[str, type[Asset]] = {
    "playlist": Playlist,
    "map": Map,
    "map_mode_pair": MapModePair,
    "game_variant": UgcGameVariant,
}
