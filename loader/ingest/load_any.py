"""`halo load PATH...`: any folder of SPNKr responses, split by shape between the two databases.

Each file is recognised by `loader.ingest.shapes.document_side` (the same byte scans the two loaders use):
reference documents go to the shared metadata database (`load_reference`), player documents to the player's
database (`load_matches`), each in its own single transaction; responses the project does not store (film metadata,
match count) are listed as not stored, with the reason. Files that cannot be read or are not recognised go to the
player's side when a player is given (else the reference side), whose reader rejects them into its `raw.rejected`.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loader.core.errors import UsageError
from loader.core.resources import refusals
from loader.ingest.documents import Rejected, Skipped, iter_sources, read_source
from loader.ingest.load_matches import load_matches
from loader.ingest.load_reference import load_reference
from loader.ingest.shapes import FILM_CHUNK_NAME, document_side
from loader.ingest.writer import LoadResult

KIND_NAMES = {
    "match_stats": "match stats", "match_history": "match history", "match_skill": "match skill",
    "highlight_events": "film highlight chunk", "career_rank": "career rank", "service_record": "service record",
    "playlist_csr": "playlist CSR", "profile_users": "profile lookup",
}


@dataclass
class SplitFiles:
    player: list[Path] = field(default_factory=list)
    reference: list[Path] = field(default_factory=list)
    not_stored: list[Skipped] = field(default_factory=list)
    player_kinds: Counter = field(default_factory=Counter)
    unknown: list[Path] = field(default_factory=list)


@dataclass
class AnyLoadResult:
    """One `halo load`: the player's load and the reference load (None when there was nothing for one), what was
    not stored (with the reason) and what was found and not read below the folders."""

    player: LoadResult | None = None
    reference: LoadResult | None = None
    not_stored: list[Skipped] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def problems(self) -> bool:
        loads = [r for r in (self.player, self.reference) if r is not None]
        return bool(self.skipped) or any(r.counts.rejected or r.skipped for r in loads)


def split_files(files: Sequence[Path]) -> SplitFiles:
    split = SplitFiles()
    for path in files:
        if FILM_CHUNK_NAME.match(path.name):
            split.player.append(path)
            split.player_kinds["highlight_events"] += 1
            continue
        source = read_source(path)
        if isinstance(source, Rejected):
            split.unknown.append(path)
            continue
        side, detail = document_side(path.name, source.json_bytes)
        if side == "player":
            split.player.append(path)
            split.player_kinds[detail] += 1
        elif side == "reference":
            split.reference.append(path)
        elif side == "not_stored":
            split.not_stored.append(Skipped(path, detail or "not stored"))
        else:
            split.unknown.append(path)
    return split


def found_text(kinds: Counter) -> str:
    return ", ".join(f"{count} {KIND_NAMES.get(kind, kind)}" for kind, count in sorted(kinds.items()))


@refusals("halo load")
def load_any(
    paths: Sequence[Path],
    gamertag: str | None = None,
    xuid: int | None = None,
    root: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AnyLoadResult:
    """Load every document below `paths` into the database it belongs to (player documents need `gamertag`)."""
    skipped: list[Skipped] = []
    files = list(iter_sources(paths, skipped))  # raises UsageError before anything is opened
    split = split_files(files)
    if split.player and gamertag is None:
        raise UsageError(f"found player documents ({found_text(split.player_kinds)}, e.g. "
                         f"{split.player[0]}): pass --player GAMERTAG (and --xuid XUID on the player's first load) "
                         "to load them into that player's database")
    if gamertag is not None:
        split.player.extend(split.unknown)
    else:
        split.reference.extend(split.unknown)
    result = AnyLoadResult(not_stored=split.not_stored, skipped=skipped)
    # the player's side first: a refused first load (no --xuid) stops before either database is written
    if split.player:
        result.player = load_matches(gamertag, sorted(split.player), xuid=xuid, root=root, progress=progress)
    if split.reference:
        result.reference = load_reference(sorted(split.reference), root=root)
    return result
