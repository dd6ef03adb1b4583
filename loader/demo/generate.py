"""Demo data generator: deterministic, realistic Halo Infinite documents for a few tracked players.

`generate_demo(out_dir)` writes

- `out_dir/reference/`: medal metadata, maps, playlists, map-mode pairs, game variants, career track,
  season and CSR season calendars, and the translation files;
- `out_dir/players/<gamertag>/`: per tracked player, `<match-id>.json` match stats (every player of the
  match, humans and bots), `skill_<match-id>.json` for matchmade team matches, `<match-id>.highlights.json`
  film highlight events for a share of the all-human PvP matches, `career_rank_<n>.json` snapshots and
  `history_<n>.json` match history pages (newest first).

Friends play some sessions together: such a match's files are written, byte for byte identical, into each
friend's folder. Matches come in sessions (a few matches 1-5 minutes apart, then hours or days apart), all
ending before 2025-06-15. Everything comes from one `random.Random(seed)`: the same arguments give
byte-identical files.
"""

import json
import math
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from loader.core.errors import UsageError
from loader.demo import catalog as cat
from loader.demo.matches import INF, MatchPlan, Person, iso_time, play
from loader.demo.reference import write_reference

TRACKED = (("Demo Chief", 1.3), ("Demo Arbiter", 1.12), ("Demo Cortana", 1.0), ("Demo Johnson", 0.92),
           ("Demo Palmer", 1.05), ("Demo Locke", 0.97), ("Demo Keyes", 0.88), ("Demo Halsey", 1.08))
FIRST_XUID = 2533274900000101
POPULATION_FIRST_XUID = 2533274900010000
POPULATION = 2500
REGULARS = 30
END_MS = 1749945600000  # 2025-06-15T00:00:00Z: the demo's "now"
EARLIEST_MS = 1640995200000  # 2022-01-01T00:00:00Z
SESSION_GAP_MIN_MS = 150 * 60_000  # > 120 minutes: a new session
MATCH_SLOT_MS = 21 * 60_000  # a match (<= 15.5 min) plus its pre-game and the gap to the next one
HISTORY_PAGES = 4
PAGE = 25

_ADJ = ("Silent", "Crimson", "Rogue", "Frosty", "Lucky", "Salty", "Cosmic", "Feral", "Noble", "Spooky", "Toxic",
        "Turbo", "Zen", "Grim", "Mighty", "Sneaky", "Rapid", "Iron", "Neon", "Shadow", "Lazy", "Sly", "Wild",
        "Brave")
_NOUN = ("Grunt", "Jackal", "Elite", "Brute", "Sniper", "Warthog", "Ghost", "Banshee", "Hunter", "Wraith",
         "Marine", "Pelican", "Mongoose", "Needler", "Sentinel", "Monitor", "Oracle", "Skewer", "Razorback",
         "Gravhammer", "Spartan", "Pistol")


@dataclass
class DemoManifest:
    """What was generated: tracked players (gamertag, xuid, folder), matches per gamertag, reference folder."""

    out_dir: Path
    players: list[tuple[str, int, Path]]
    match_count: dict[str, int]
    reference_dir: Path | None
    files_written: int = 0


@dataclass
class Tracked:
    index: int
    gamertag: str
    xuid: int
    skill: float
    folder: Path
    csr: int
    xp: int
    regulars: list[int] = field(default_factory=list)
    history: deque = field(default_factory=lambda: deque(maxlen=HISTORY_PAGES * PAGE))
    matches: int = 0
    snapshots: int = 0


class World:
    """The population the tracked players meet: recurring regulars, the wider crowd, and bots."""

    def __init__(self, rng: random.Random, tracked: list[Tracked]):
        self.rng = rng
        self.tracked = tracked
        self.population: list[tuple[int, str, float]] = []
        seen: set[str] = set()
        for i in range(POPULATION):
            while True:
                style = rng.random()
                adj, noun = rng.choice(_ADJ), rng.choice(_NOUN)
                if style < 0.35:
                    tag = f"{adj} {noun}"
                elif style < 0.8:
                    tag = f"{adj}{noun}{rng.randint(1, 999)}"
                else:
                    tag = f"{noun}#{rng.randint(1000, 9999)}"
                tag = tag[:15]
                if tag not in seen:
                    seen.add(tag)
                    break
            self.population.append((POPULATION_FIRST_XUID + 7 * i, tag, math.exp(rng.gauss(0, 0.28))))
        for t in tracked:
            t.regulars = rng.sample(range(POPULATION), REGULARS)

    def person(self, index: int, bracket: float | None) -> Person:
        xuid, tag, skill = self.population[index]
        if bracket is not None:  # skill-based matchmaking pulls everyone toward the party's level
            skill = 0.3 * skill + 0.7 * bracket * math.exp(self.rng.gauss(0, 0.15))
        skill *= math.exp(self.rng.gauss(0, 0.2))  # form of the day
        mmr = 1100 + 800 * (skill - 1) + self.rng.gauss(0, 30)
        return Person(f"xuid({xuid})", xuid, tag, skill, mmr)

    def tracked_person(self, t: Tracked) -> Person:
        mmr = 1100 + 800 * (t.skill - 1) + self.rng.gauss(0, 25)
        skill = t.skill * math.exp(self.rng.gauss(0, 0.25))  # form of the day
        return Person(f"xuid({t.xuid})", t.xuid, t.gamertag, skill, mmr, tracked=t.index, csr=t.csr)

    def fill(self, party: list[Tracked], taken: set[int], n: int, bracket: float | None) -> list[Person]:
        rng = self.rng
        regulars = [r for t in party for r in t.regulars]
        out = []
        while len(out) < n:
            index = rng.choice(regulars) if rng.random() < 0.4 else rng.randrange(POPULATION)
            if index in taken:
                continue
            taken.add(index)
            out.append(self.person(index, bracket))
        return out

    def bots(self, n: int, difficulty: tuple[int, int]) -> list[Person]:
        rng = self.rng
        first = rng.randint(1, 12)
        out = []
        for i in range(n):
            d = rng.randint(*difficulty)
            out.append(Person(f"bid({first + i}.0)", None, None, 0.55 + 0.12 * d, 0.0, difficulty=d))
        return out


_PLAYLIST_KEYS = tuple(cat.PLAYLISTS)
_PLAYLIST_WEIGHTS = tuple(cat.PLAYLISTS[k].weight for k in _PLAYLIST_KEYS)
CUSTOM_WEIGHT = 10.0


def plan_match(world: World, party: list[Tracked], forced_size: int | None) -> MatchPlan:
    rng = world.rng
    if forced_size == 24:
        pl = cat.PLAYLISTS["btb"]
    elif forced_size is not None:
        pl = cat.PLAYLISTS[rng.choices(cat.ARENA_PLAYLISTS, (30, 25, 10))[0]]
    else:
        choice = rng.choices(_PLAYLIST_KEYS + ("custom",), _PLAYLIST_WEIGHTS + (CUSTOM_WEIGHT,))[0]
        pl = None if choice == "custom" else cat.PLAYLISTS[choice]
    mates = [world.tracked_person(t) for t in party]
    taken: set[int] = set()
    if pl is None:
        return _plan_custom(world, party, mates, taken)
    bracket = max(0.5, min(2.0, 1 + (sum(t.csr for t in party) / len(party) - 1100) / 800))
    pair = rng.choice(pl.pairs)
    if pl.teams == 0:  # Infection: free for all, each player their own LastTeamId
        people = mates + world.fill(party, taken, rng.randint(12, 16) - len(mates), bracket)
        rng.shuffle(people)
        for i, p in enumerate(people):
            p.team = i
        return MatchPlan(pl, pair, people, 0, False)
    team0 = mates + world.fill(party, taken, pl.team_size - len(mates), bracket)
    if pl.teams == 1:
        return MatchPlan(pl, pair, team0, 1, False)
    team1 = world.bots(pl.bots_per_team, (1, 2)) if pl.bots_per_team else world.fill(party, taken, pl.team_size,
                                                                                      bracket)
    ours, theirs = (0, 1) if rng.random() < 0.5 else (1, 0)
    for p in team0:
        p.team = ours
    for p in team1:
        p.team = theirs
    people = team0 + team1 if ours == 0 else team1 + team0
    plan = MatchPlan(pl, pair, people, 2, pl.ranked)
    if not pl.ranked and forced_size is None:
        plan.extra_people = world.fill(party, taken, 1, bracket)
    return plan


def _plan_custom(world: World, party: list[Tracked], mates: list[Person], taken: set[int]) -> MatchPlan:
    rng = world.rng
    pair = rng.choice(cat.CUSTOM_PAIRS)
    if pair.variant.category == cat.FIREFIGHT:
        people = mates + world.fill(party, taken, rng.randint(0, 2), None) + world.bots(rng.randint(1, 2), (2, 4))
        return MatchPlan(None, pair, people, 1, False)
    humans = mates + world.fill(party, taken, rng.randint(1, 5), None)
    bots = world.bots(rng.randint(1, 4), (1, 4)) if rng.random() < 0.6 else []
    people = humans + bots
    rng.shuffle(people)
    for i, p in enumerate(people):
        p.team = i % 2
    return MatchPlan(None, pair, people, 2, False)


def _schedule(rng: random.Random, counts: list[int]) -> list[tuple[list[int], int, int]]:
    """Sessions (party, number of matches, start ms): friends sometimes play together; exact counts per player."""
    remaining = list(counts)
    sessions: list[tuple[list[int], int]] = []
    while any(remaining):
        active = [i for i, r in enumerate(remaining) if r > 0]
        lead = rng.choices(active, [remaining[i] for i in active])[0]
        party = [lead]
        others = [i for i in active if i != lead]
        if others and rng.random() < 0.35:
            party.append(rng.choice(others))
            if len(others) > 1 and rng.random() < 0.25:
                party.append(rng.choice([i for i in others if i not in party]))
        n = min(rng.choice((1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8)), *(remaining[i] for i in party))
        for i in party:
            remaining[i] -= n
        sessions.append((sorted(party), n))
    # gaps between sessions: at least SESSION_GAP_MIN_MS plus an exponential part, scaled so that the
    # history fits between EARLIEST_MS and END_MS (at most ~30 hours apart on average)
    fixed = sum(n * MATCH_SLOT_MS + SESSION_GAP_MIN_MS for _, n in sessions)
    extra = [rng.expovariate(1.0) for _ in sessions]
    budget = max(0, END_MS - EARLIEST_MS - fixed)
    scale = min(budget / max(1e-9, sum(extra)), 28 * 3_600_000)
    starts = []
    t = 0
    for (_, n), e in zip(sessions, extra):
        starts.append(t)
        t += n * MATCH_SLOT_MS + SESSION_GAP_MIN_MS + int(e * scale)
    shift = END_MS - t
    return [(party, n, start + shift) for (party, n), start in zip(sessions, starts)]


def _dumps(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def _career_doc(t: Tracked, observed_ms: int) -> dict:
    xp = t.xp
    rank = 272
    partial = 0
    for r in cat.CAREER_RANKS:
        if xp < r.xp or r.rank == 272:
            rank, partial = r.rank, (xp if r.rank < 272 else 0)
            break
        xp -= r.xp
    return {"CurrentProgress": {"Rank": rank, "PartialProgress": partial, "HasReachedMaxRank": rank == 272},
            "SpartanId": f"xuid({t.xuid})", "ObservedAt": iso_time(observed_ms)}


def _generate(out_dir: Path, specs: list[tuple[str, int, float]], matches_per_player: int, seed: int,
              film_share: float, forced_size: int | None, with_reference: bool, stats_only: bool) -> DemoManifest:
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    ref_dir = out_dir / "reference" if with_reference else None
    written = 0
    if ref_dir is not None:
        written += len(write_reference(ref_dir))
    tracked = []
    for i, (gamertag, xuid, skill) in enumerate(specs):
        folder = out_dir / "players" / gamertag
        folder.mkdir(parents=True, exist_ok=True)
        csr = int(1100 + 800 * (skill - 1) + rng.randint(-150, 150))
        tracked.append(Tracked(i, gamertag, xuid, skill, folder, csr, rng.randint(150_000, 900_000)))
    world = World(rng, tracked)
    folders = {t.index: str(t.folder) for t in tracked}

    for party_ids, n, start in _schedule(rng, [matches_per_player] * len(tracked)):
        party = [tracked[i] for i in party_ids]
        t_ms = start
        for _ in range(n):
            plan = plan_match(world, party, forced_size)
            match_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            film = not stats_only and rng.random() < film_share
            out = play(rng, plan, match_id, t_ms, cat.csr_season_at(t_ms), film)
            stats = _dumps(out.stats)
            skill = _dumps(out.skill) if out.skill is not None and not stats_only else None
            highlights = _dumps(out.highlights) if out.highlights is not None else None
            for p in out.people:
                if p.tracked is None:
                    continue
                t = tracked[p.tracked]
                folder = folders[t.index]
                with open(f"{folder}/{match_id}.json", "wb") as fh:
                    fh.write(stats)
                written += 1
                if skill is not None:
                    with open(f"{folder}/skill_{match_id}.json", "wb") as fh:
                        fh.write(skill)
                    written += 1
                if highlights is not None:
                    with open(f"{folder}/{match_id}.highlights.json", "wb") as fh:
                        fh.write(highlights)
                    written += 1
                if p.csr_post is not None:
                    t.csr = p.csr_post
                t.xp += max(0, p.num["PersonalScore"])
                t.matches += 1
                t.history.append({"MatchId": match_id, "MatchInfo": out.match_info, "LastTeamId": p.team,
                                  "Outcome": p.outcome, "Rank": p.rank, "PresentAtEndOfMatch": p.leave == INF})
            t_ms = out.end_ms + rng.randint(60_000, 300_000)
        if not stats_only:
            for t in party:
                if rng.random() < 0.2 or t.matches == matches_per_player:
                    t.snapshots += 1
                    doc = _career_doc(t, t_ms + rng.randint(0, 3_600_000))
                    (t.folder / f"career_rank_{t.snapshots}.json").write_bytes(_dumps(doc))
                    written += 1

    if not stats_only:
        for t in tracked:
            newest = list(reversed(t.history))
            for page in range(HISTORY_PAGES):
                results = newest[page * PAGE:(page + 1) * PAGE]
                if not results:
                    break
                doc = {"Start": page * PAGE, "Count": PAGE, "ResultCount": len(results), "Links": {},
                       "Results": results}
                (t.folder / f"history_{page}.json").write_bytes(_dumps(doc))
                written += 1

    return DemoManifest(out_dir=out_dir, players=[(t.gamertag, t.xuid, t.folder) for t in tracked],
                        match_count={t.gamertag: t.matches for t in tracked}, reference_dir=ref_dir,
                        files_written=written)


def generate_demo(out_dir: Path, players: int = 3, matches_per_player: int = 300, seed: int = 7,
                  film_share: float = 0.25) -> DemoManifest:
    """Reference data plus `players` tracked players ('Demo Chief', 'Demo Arbiter', ...) with
    `matches_per_player` matches each (shared matches count for every friend in them)."""
    if not 1 <= players <= len(TRACKED):
        raise UsageError(f"--players must be between 1 and {len(TRACKED)}")
    specs = [(name, FIRST_XUID + i, skill) for i, (name, skill) in enumerate(TRACKED[:players])]
    return _generate(Path(out_dir), specs, matches_per_player, seed, film_share, None, True, False)


def generate_player_matches(out_dir: Path, gamertag: str = "Demo Chief", xuid: int = FIRST_XUID,
                            n_matches: int = 1000, seed: int = 7, n_players_per_match: int | None = None,
                            film_share: float = 0.0, stats_only: bool = False,
                            with_reference: bool = False) -> DemoManifest:
    """One tracked player with exactly `n_matches` matches in `out_dir/players/<gamertag>/`.

    `n_players_per_match=8` plays only 4v4 Arena playlists, `24` only 12v12 Big Team Battle (no joins in
    progress, so every match document has exactly that many players); None plays the natural mix (custom
    games with bots, Infection, Firefight, ...). `stats_only` writes only the match-stats files.
    """
    if n_players_per_match not in (None, 8, 24):
        raise ValueError("n_players_per_match must be 8, 24 or None")
    specs = [(gamertag, int(xuid), 1.15)]
    return _generate(Path(out_dir), specs, n_matches, seed, film_share, n_players_per_match, with_reference,
                     stats_only)
