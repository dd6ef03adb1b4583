"""Document shapes: how a file is recognised as one of the documents `halo load` knows, before validation.

A cheap scan of the bytes (top-level keys) or of the file name (film highlight chunks are named
`<film-major-version>_<match-id>.gzip`); validation with the `loader.api` models confirms. Both sides of the
loader (player documents and reference documents) use it, so each can tell the other's documents apart.
"""

import re

FILM_CHUNK_NAME = re.compile(r"^(\d{1,4})_([0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})\.gzip$")
UUID_IN_NAME = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
MATCH_ID_IN_BYTES = re.compile(rb'"MatchId"\s*:\s*"([^"]{1,64})"')

NOT_STORED = {
    b'"FilmStatusBond"': "film metadata, not a highlight chunk: download the highlight-events chunk it lists and "
                         "save it as <film-major-version>_<match-id>.gzip",
    b'"MatchesPlayedCount"': "match count: not stored (the warehouse counts the loaded matches)",
}
REFERENCE_MARKERS = (b'"Medals"', b'"medals"', b'"Sprites"', b'"RankTitle"', b'"PublicName"', b'"Seasons"',
                     b'"Playlists"')


def detect_kind(data: bytes) -> str | None:
    """Recognise a JSON document by its top-level keys (cheap byte scan; validation confirms)."""
    if b'"FilmMajorVersion"' in data and b'"Events"' in data:
        return "highlight_events"
    if b'"ResultCount"' in data and b'"Results"' in data:
        return "match_history"
    if b'"MatchInfo"' in data and b'"Players"' in data:
        return "match_stats"
    if b'"CurrentProgress"' in data:
        return "career_rank"
    if b'"Value"' in data and b'"ResultCode"' in data:
        return "playlist_csr" if b'"SeasonMax"' in data else "match_skill"
    if b'"Subqueries"' in data and b'"CoreStats"' in data:
        return "service_record"
    if b'"gamertag"' in data and b'"xuid"' in data and PROFILE_START.match(data):
        return "profile_users"
    return None


PROFILE_START = re.compile(rb'^(?:\xef\xbb\xbf)?\s*[\[{]\s*(?:\{\s*)?"(?:xuid|gamertag|gamerpic)"')
ZLIB_HEADERS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")


def looks_like_film_chunk(data: bytes) -> bool:
    """A zlib stream (film highlight chunks are zlib despite their `.gzip` name): checked by its header."""
    return data[:2] in ZLIB_HEADERS


def document_side(name: str, data: bytes) -> tuple[str, str | None]:
    """Which database a file goes to, by its name and bytes: ("player", kind), ("reference", kind),
    ("not_stored", reason) or ("unknown", None) (rejected by whichever side reads it)."""
    if FILM_CHUNK_NAME.match(name) or looks_like_film_chunk(data):
        return "player", "highlight_events"
    kind = detect_kind(data)
    if kind is not None:
        return "player", kind
    kind = detect_reference_kind(data)
    if kind is not None:
        return "reference", kind
    for marker, reason in NOT_STORED.items():
        if marker in data:
            return "not_stored", reason
    return "unknown", None


NUMERIC_KEYED_OBJECT = re.compile(rb'^\s*\{\s*"\d+"\s*:\s*"')


def detect_reference_kind(data: bytes) -> str | None:
    """Recognise a reference document by its keys (cheap byte scan; validation confirms)."""
    if b'"medals"' in data and b'"difficulties"' in data:
        return "medal_metadata"
    if b'"Ranks"' in data and b'"XpRequiredForRank"' in data:
        return "career_reward_track"
    if b'"Seasons"' in data and (b'"OperationTrackPath"' in data or b'"CareerRank"' in data):
        return "season_calendar"
    if b'"Seasons"' in data and b'"CsrSeasonFilePath"' in data:
        return "csr_season_calendar"
    if b'"playlists"' in data and b'"modes"' in data:
        return "playlist_mode_translations"
    if b'"AssetId"' in data and b'"PublicName"' in data:
        if b'"RotationEntries"' in data or b'"PlaylistEntries"' in data:
            return "playlist"
        if b'"UgcGameVariantLink"' in data:
            return "map_mode_pair"
        if b'"EngineGameVariantLink"' in data:
            return "game_variant"
        if b'"PrefabLinks"' in data or b'"NumOfObjectsOnMap"' in data:
            return "map"
    if NUMERIC_KEYED_OBJECT.match(data):
        return "medal_names"
    return None
