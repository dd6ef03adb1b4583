"""The demo's game catalogue: maps, game variants, playlists, map-mode pairs, seasons, career ranks.

Everything here is the generator's own table (real Halo Infinite names, made-up but
stable asset ids derived with uuid5), so the demo works without the shared fixtures.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from loader.demo.medal_table import EXTRA_MEDAL_NAMES, MEDALS

NAMESPACE = uuid.UUID("6f1c3a52-9d1e-4c55-8a57-0b5a1e0d4a11")
CLEARANCE_MATCHMADE = str(uuid.uuid5(NAMESPACE, "clearance:matchmade"))
CLEARANCE_CUSTOM = str(uuid.uuid5(NAMESPACE, "clearance:custom"))
CLEARANCE_EVENT = str(uuid.uuid5(NAMESPACE, "clearance:featured"))

# Game variant categories (API codes, as in SPNKr's GameVariantCategory).
SLAYER, STRONGHOLDS, KOTH, CTF, ODDBALL, INFECTION, FIREFIGHT = 6, 11, 13, 15, 18, 22, 42
MODE_NAMES = {
    SLAYER: ("Slayer", "Assassin"),
    STRONGHOLDS: ("Strongholds", "Bastions"),
    KOTH: ("King of the Hill", "Roi de la colline"),
    CTF: ("CTF", "Capture du drapeau"),
    ODDBALL: ("Oddball", "Balle folle"),
    INFECTION: ("Infection", "Infection"),
    FIREFIGHT: ("Firefight", "Baptême du feu"),
}


def _id(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


@dataclass(frozen=True)
class MapDef:
    name: str
    description: str
    asset_id: str
    version_id: str
    level_id: str
    objects: int


@dataclass(frozen=True)
class VariantDef:
    key: str
    public_name: str
    category: int
    description: str
    tags: tuple[str, ...]
    engine_name: str
    asset_id: str
    version_id: str


@dataclass(frozen=True)
class PairDef:
    variant: VariantDef
    map: MapDef
    public_name: str
    category: str  # translation-file category (Arena, Ranked, BTB, ...)
    asset_id: str
    version_id: str


@dataclass(frozen=True)
class PlaylistDef:
    key: str
    name: str
    name_fr: str
    description: str
    experience: int  # PlaylistExperience code
    ranked: bool
    team_size: int  # humans per team (FFA: total humans)
    teams: int  # 0 for free-for-all (Infection)
    pairs: tuple[PairDef, ...]
    asset_id: str
    version_id: str
    bots_per_team: int = 0
    weight: float = 1.0
    extra: dict = field(default_factory=dict)


_MAP_TEXT = {
    "Aquarius": "Even in this luxury resort, the fight for supremacy never ends.",
    "Live Fire": "A UNSC training facility on Zeta Halo, still echoing with simulated combat.",
    "Recharge": "An energy facility where power flows as freely as the bullets.",
    "Streets": "A compact market district in New Mombasa's recovering heart.",
    "Bazaar": "A bustling market on the edge of the desert, full of tight corners.",
    "Behemoth": "A Forerunner ruin around a massive monolith.",
    "Catalyst": "Spent shells rain like water in this ancient sanctuary.",
    "Empyrean": "Two towers tower over a Forerunner power conduit.",
    "Solitude": "A remote outpost where arctic winds howl across the gap.",
    "Argyle": "A Banished-occupied UNSC research station.",
    "Cliffhanger": "A cold mountain fortress holding a precious artifact.",
    "Fragmentation": "Banished and UNSC clash among the pines of Zeta Halo.",
    "Highpower": "A Forerunner facility holding back a flood of Banished forces.",
    "Deadlock": "A windswept canyon with a Forerunner structure at its heart.",
    "Breaker": "A Banished salvage yard in the Zeta Halo badlands.",
    "Command": "A Banished command post overlooking the frontier.",
}
ARENA_MAPS = ("Aquarius", "Live Fire", "Recharge", "Streets", "Bazaar", "Behemoth", "Catalyst",
              "Empyrean", "Solitude", "Argyle", "Cliffhanger")
BTB_MAPS = ("Fragmentation", "Highpower", "Deadlock", "Breaker", "Command")

MAPS: dict[str, MapDef] = {
    name: MapDef(name, text, _id("map", name), _id("map-version", name), _id("level", name), 40 + 7 * i)
    for i, (name, text) in enumerate(_MAP_TEXT.items())
}

_VARIANTS = (
    # key, public name, category, description, tags, engine variant
    ("ranked_slayer", "Ranked:Slayer", SLAYER, "Competitive settings. Slay the enemy team.", ("343i", "Ranked", "Slayer"), "Slayer-Ranked"),
    ("ranked_ctf", "Ranked:CTF", CTF, "Competitive settings. Capture the enemy flag.", ("343i", "Ranked", "CTF"), "CTF-Ranked"),
    ("ranked_oddball", "Ranked:Oddball", ODDBALL, "Competitive settings. Hold the skull to score.", ("343i", "Ranked", "Oddball"), "Oddball-Ranked"),
    ("ranked_strongholds", "Ranked:Strongholds", STRONGHOLDS, "Competitive settings. Hold two of three zones.", ("343i", "Ranked", "Strongholds"), "Strongholds-Ranked"),
    ("ranked_koth", "Ranked:King of the Hill", KOTH, "Competitive settings. Control the moving hill.", ("343i", "Ranked", "KOTH"), "KOTH-Ranked"),
    ("arena_slayer", "Arena:Slayer", SLAYER, "Slay the enemy team.", ("343i", "Arena", "Slayer"), "Slayer-Arena"),
    ("arena_ctf", "Arena:CTF", CTF, "Capture the enemy flag and bring it home.", ("343i", "Arena", "CTF"), "CTF-Arena"),
    ("arena_oddball", "Arena:Oddball", ODDBALL, "Grab the skull and hold on to it.", ("343i", "Arena", "Oddball"), "Oddball-Arena"),
    ("arena_strongholds", "Arena:Strongholds", STRONGHOLDS, "Capture and hold the zones.", ("343i", "Arena", "Strongholds"), "Strongholds-Arena"),
    ("arena_koth", "Arena:King of the Hill", KOTH, "Control the hill to score.", ("343i", "Arena", "KOTH"), "KOTH-Arena"),
    ("btb_slayer", "BTB:Slayer", SLAYER, "Big team slaying with vehicles.", ("343i", "BTB", "Slayer"), "Slayer-BTB"),
    ("btb_ctf", "BTB:CTF", CTF, "Big team flag capture with vehicles.", ("343i", "BTB", "CTF"), "CTF-BTB"),
    ("infection", "Infection", INFECTION, "Survive the infected or join them.", ("343i", "Infection"), "Infection-Default"),
    ("firefight_koth", "Firefight:King of the Hill", FIREFIGHT, "Hold the hills against waves of Banished.", ("343i", "Firefight", "PvE"), "Firefight-KOTH"),
    ("bootcamp_slayer", "Bot Bootcamp:Slayer", SLAYER, "Slay a team of bots.", ("343i", "Bots", "Slayer"), "Slayer-Bots"),
    ("custom_slayer", "Slayer", SLAYER, "Slay your way to victory.", ("343i", "Slayer"), "Slayer-Default"),
    ("custom_oddball", "Oddball", ODDBALL, "Hold the skull to score points.", ("343i", "Oddball"), "Oddball-Default"),
    ("custom_ctf", "Capture the Flag", CTF, "Capture the enemy flag.", ("343i", "CTF"), "CTF-Default"),
    ("custom_firefight", "Firefight:Heroic King of the Hill", FIREFIGHT, "Heroic waves of Banished.", ("343i", "Firefight", "PvE"), "Firefight-Heroic"),
)
VARIANTS: dict[str, VariantDef] = {
    key: VariantDef(key, name, cat, text, tags, engine, _id("variant", key), _id("variant-version", key))
    for key, name, cat, text, tags, engine in _VARIANTS
}

_PAIRS: dict[tuple[str, str], PairDef] = {}


def pair(variant_key: str, map_name: str, category: str) -> PairDef:
    key = (variant_key, map_name)
    if key not in _PAIRS:
        variant = VARIANTS[variant_key]
        name = f"{variant.public_name} on {map_name}"
        _PAIRS[key] = PairDef(variant, MAPS[map_name], name, category, _id("mmp", name), _id("mmp-version", name))
    return _PAIRS[key]


def _pairs(variants: tuple[str, ...], maps: tuple[str, ...], category: str) -> tuple[PairDef, ...]:
    return tuple(pair(v, m, category) for v in variants for m in maps)


_OBJECTIVE_MAPS = ("Aquarius", "Bazaar", "Catalyst", "Argyle", "Empyrean", "Cliffhanger")
_ZONE_MAPS = ("Live Fire", "Recharge", "Streets", "Solitude", "Behemoth")


def _playlist(key, name, name_fr, text, experience, ranked, team_size, teams, pairs, weight, bots=0, **extra):
    return PlaylistDef(key, name, name_fr, text, experience, ranked, team_size, teams, pairs,
                       _id("playlist", key), _id("playlist-version", key), bots, weight, extra)


PLAYLISTS: dict[str, PlaylistDef] = {p.key: p for p in (
    _playlist("quick_play", "Quick Play", "Partie rapide",
              "Jump into a mix of Arena modes: Slayer, objective and more.", 2, False, 4, 2,
              _pairs(("arena_slayer",), ARENA_MAPS, "Arena") + _pairs(("arena_ctf", "arena_oddball"), _OBJECTIVE_MAPS, "Arena")
              + _pairs(("arena_strongholds", "arena_koth"), _ZONE_MAPS, "Arena"), 30),
    _playlist("ranked_arena", "Ranked Arena", "Arène classée",
              "Competitive Halo Infinite settings: Battle Rifle starts. No radar. Earn or progress your rank.",
              2, True, 4, 2,
              _pairs(("ranked_slayer",), ("Aquarius", "Live Fire", "Recharge", "Streets", "Solitude"), "Ranked")
              + _pairs(("ranked_ctf",), ("Aquarius", "Bazaar", "Catalyst"), "Ranked")
              + _pairs(("ranked_oddball",), ("Live Fire", "Recharge", "Streets"), "Ranked")
              + _pairs(("ranked_strongholds",), ("Live Fire", "Recharge", "Solitude"), "Ranked")
              + _pairs(("ranked_koth",), ("Live Fire", "Recharge", "Streets"), "Ranked"), 25),
    _playlist("team_slayer", "Team Slayer", "Assassin en équipe", "Classic 4v4 Slayer.", 2, False, 4, 2,
              _pairs(("arena_slayer",), ARENA_MAPS, "Arena"), 10),
    _playlist("btb", "Big Team Battle", "Grande bataille en équipe",
              "12v12 combined-arms warfare on large maps.", 3, False, 12, 2,
              _pairs(("btb_slayer", "btb_ctf"), BTB_MAPS, "BTB"), 12),
    _playlist("infection", "Infection", "Infection", "Survive the infected, or become one of them.", 5, False, 14, 0,
              _pairs(("infection",), ("Live Fire", "Streets", "Behemoth", "Argyle"), "Community"), 5),
    _playlist("firefight", "Firefight: King of the Hill", "Baptême du feu : Roi de la colline",
              "Team up and hold the hills against waves of Banished.", 5, False, 4, 1,
              _pairs(("firefight_koth",), ("Behemoth", "Highpower", "Fragmentation", "Argyle"), "Firefight"), 5),
    _playlist("bot_bootcamp", "Bot Bootcamp", "Camp d'entraînement contre les bots",
              "Team up against bots to learn the ropes.", 4, False, 4, 2,
              _pairs(("bootcamp_slayer",), ("Aquarius", "Live Fire", "Recharge", "Streets"), "Other"), 3, bots=4),
)}
ARENA_PLAYLISTS = ("quick_play", "ranked_arena", "team_slayer")

# Custom games (LifecycleMode 1): no playlist, no season; often with bots.
CUSTOM_PAIRS = (
    _pairs(("custom_slayer",), ("Aquarius", "Streets", "Recharge", "Bazaar"), "Other")
    + _pairs(("custom_oddball",), ("Live Fire", "Catalyst", "Streets"), "Other")
    + _pairs(("custom_ctf",), ("Aquarius", "Bazaar"), "Other")
    + _pairs(("custom_firefight",), ("Behemoth", "Argyle"), "Other")
)
ALL_PAIRS: tuple[PairDef, ...] = tuple(_PAIRS.values())

# Category translations as the real translation file has them (its stray "ght" key included).
CATEGORY_FR = {"Arena": "Assassin", "Assault": "Assassin", "BTB": "Grande bataille en équipe",
               "BTB Heavies": "Grande bataille en équipe", "Community": "Assassin", "Event": "Autres",
               "Fiesta": "Fiesta", "Firefight": "Baptême du feu", "Gruntpocalypse": "Baptême du feu",
               "Husky Raid": "Fiesta", "Other": "Autres", "Ranked": "Classé", "Super Fiesta": "Fiesta",
               "Super Husky Raid": "Fiesta", "Tactical": "Assassin", "ght": "Baptême du feu"}

# CSR seasons: (file path, start, end). Real paths; dates follow the public calendar where known.
CSR_SEASONS = (
    ("Csr/Seasons/CsrSeason1.json", "2021-06-20T17:00:00.000Z", "2022-02-22T22:00:00.000Z"),
    ("Csr/Seasons/CsrSeason1-2.json", "2022-02-22T22:00:00.000Z", "2022-05-03T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason2.json", "2022-05-03T17:00:00.000Z", "2022-08-23T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason2-2.json", "2022-08-23T17:00:00.000Z", "2022-11-08T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason2-3.json", "2022-11-08T17:00:00.000Z", "2023-03-07T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason3-1.json", "2023-03-07T17:00:00.000Z", "2023-06-20T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason4-1.json", "2023-06-20T17:00:00.000Z", "2023-10-17T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason5-1.json", "2023-10-17T17:00:00.000Z", "2024-01-30T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason6-1.json", "2024-01-30T17:00:00.000Z", "2024-05-28T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason7-1.json", "2024-05-28T17:00:00.000Z", "2024-08-27T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason8-1.json", "2024-08-27T17:00:00.000Z", "2024-11-19T18:00:00.000Z"),
    ("Csr/Seasons/CsrSeason9-1.json", "2024-11-19T18:00:00.000Z", "2025-03-18T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason9-2.json", "2025-03-18T17:00:00.000Z", "2025-07-15T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason10-1.json", "2025-07-15T17:00:00.000Z", "2025-11-18T18:00:00.000Z"),
)
# Operations / seasons of the season calendar: (csr season, operation track, season metadata, start, end)
SEASONS = (
    ("Csr/Seasons/CsrSeason1-2.json", "RewardTracks/Operations/battlepass-noblesacrifice.json", "Seasons/Season1.json", "2021-06-20T17:00:00.000Z", "2022-05-03T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason2-3.json", "RewardTracks/Operations/battlepass-lonewolves.json", "Seasons/Season2.json", "2022-05-03T17:00:00.000Z", "2022-11-08T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason2-3.json", "RewardTracks/Operations/battlepass-WinterBreak.json", "Seasons/Season-Winter-Break-22.json", "2022-11-08T17:00:00.000Z", "2023-03-07T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason3-1.json", "RewardTracks/Operations/S03BattlePass.json", "Seasons/Season3.json", "2023-03-07T17:00:00.000Z", "2023-06-20T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason4-1.json", "RewardTracks/Operations/S04BattlePass.json", "Seasons/Season4.json", "2023-06-20T17:00:00.000Z", "2023-10-17T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason5-1.json", "RewardTracks/Operations/S05OpPassL01.json", "Seasons/Season5-Op1.json", "2023-10-17T17:00:00.000Z", "2024-01-30T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason6-1.json", "RewardTracks/Operations/S06OpPassL01.json", "Seasons/Season6-Op1.json", "2024-01-30T17:00:00.000Z", "2024-05-28T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason7-1.json", "RewardTracks/Operations/S07OpPassL01.json", "Seasons/Season7-Op1.json", "2024-05-28T17:00:00.000Z", "2024-08-27T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason8-1.json", "RewardTracks/Operations/S08OpPassL01.json", "Seasons/Season8-Op1.json", "2024-08-27T17:00:00.000Z", "2024-11-19T18:00:00.000Z"),
    ("Csr/Seasons/CsrSeason9-1.json", "RewardTracks/Operations/S09OpPassL01.json", "Seasons/Season9-Op1.json", "2024-11-19T18:00:00.000Z", "2025-03-18T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason9-2.json", "RewardTracks/Operations/S09OpPassL02.json", "Seasons/Season9-Op2.json", "2025-03-18T17:00:00.000Z", "2025-07-15T17:00:00.000Z"),
    ("Csr/Seasons/CsrSeason10-1.json", "RewardTracks/Operations/S10OpPassL01.json", "Seasons/Season10-Op1.json", "2025-07-15T17:00:00.000Z", "2025-11-18T18:00:00.000Z"),
)
EVENTS = (
    ("RewardTracks/Events/Rituals/ritualWotWSamurai.json", "2021-09-18T21:30:00.00Z", "2021-11-07T17:00:00.00Z"),
    ("RewardTracks/Events/Rituals/ritualWinterGiveaway.json", "2021-12-21T17:00:00.00Z", "2022-01-04T17:00:00.00Z"),
    ("RewardTracks/Events/Rituals/ritualCyberShowdown.json", "2022-02-08T18:00:00.00Z", "2022-02-22T18:00:00.00Z"),
    ("RewardTracks/Events/Rituals/S04Fracture.json", "2023-09-26T18:00:00.00Z", "2023-10-03T18:00:00.00Z"),
    ("RewardTracks/Events/Rituals/S09Fracture.json", "2025-02-04T18:00:00.00Z", "2025-02-18T18:00:00.00Z"),
)


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


CSR_SEASON_BOUNDS = tuple((path, int(parse_iso(s).timestamp() * 1000), int(parse_iso(e).timestamp() * 1000))
                          for path, s, e in CSR_SEASONS)


def csr_season_at(epoch_ms: int) -> str | None:
    for path, start, end in CSR_SEASON_BOUNDS:
        if start <= epoch_ms < end:
            return path
    return None


# Career ranks: 1 Recruit, 15 titles x 6 tiers x 3 grades, 272 Hero.
CAREER_TITLES = ("Cadet", "Private", "Lance Corporal", "Corporal", "Sergeant", "Staff Sergeant", "Gunnery Sergeant",
                 "Master Sergeant", "Lieutenant", "Captain", "Major", "Lt Colonel", "Colonel", "Brigadier General",
                 "General")
CAREER_TIERS = ("Bronze", "Silver", "Gold", "Platinum", "Diamond", "Onyx")
_TIER_XP = {"Bronze": (1000, 2500), "Silver": (2750, 6750), "Gold": (7000, 15000), "Platinum": (15000, 35000),
            "Diamond": (35000, 90000), "Onyx": (100000, 250000)}


@dataclass(frozen=True)
class CareerRankDef:
    rank: int
    title: str
    tier: str  # sub-title: Bronze .. Onyx ('' for Recruit and Hero)
    grade: int
    tier_type: str
    xp: int


def _career_ranks() -> tuple[CareerRankDef, ...]:
    ranks = [CareerRankDef(1, "Recruit", "", 0, "Bronze", 100)]
    n = 2
    for tier in CAREER_TIERS:
        low, high = _TIER_XP[tier]
        steps = len(CAREER_TITLES) * 3 - 1
        for t, title in enumerate(CAREER_TITLES):
            for grade in (1, 2, 3):
                i = t * 3 + grade - 1
                xp = low + (high - low) * i // steps
                ranks.append(CareerRankDef(n, title, tier, grade, tier, xp - xp % 250))
                n += 1
    ranks.append(CareerRankDef(272, "Hero", "", 0, "Gold", 1))
    ranks[1] = CareerRankDef(2, "Cadet", "Bronze", 1, "Bronze", 1000)
    return tuple(ranks)


CAREER_RANKS = _career_ranks()
assert len(CAREER_RANKS) == 272

# Medal lookups by English name.
MEDAL_BY_NAME = {m[1]: m for m in MEDALS}
MEDAL_IDS = {m[1]: m[0] for m in MEDALS}
ALL_MEDAL_NAMES = tuple((m[0], m[1], m[2]) for m in MEDALS) + EXTRA_MEDAL_NAMES
