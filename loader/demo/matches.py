"""One simulated match -> match stats, match skill and highlight-event documents in the API's shapes.

A match is simulated as a stream of kills (killer, victim, millisecond), so the
stats, the medals and the film events agree: every kill event of a human has the
victim's death event at the same millisecond, and per human the number of kill
and death events equals Kills and Deaths. Conventions copied from the real
responses: KDA = kills + assists/3 - deaths and Accuracy = 100 * hits / shots,
both truncated (not rounded) to 2 decimals as the API does (11.666 -> 11.66);
team stats are the sums of their players' (team Score too, except in
Strongholds/King of the Hill and Firefight where players score 0 and the team
scores zone ticks / waves); teams and players are ranked winning team first,
then by Score, ties sharing a rank.
"""

import bisect
import datetime as dt
import math
import random
from dataclasses import dataclass, field
from itertools import accumulate

from spnkr.film.medals import MEDALS as FILM_MEDALS

from loader.demo import catalog as cat

EPOCH = dt.datetime(1970, 1, 1)
TICKS = 10_000_000  # 100 ns ticks per second (.NET TimeSpan)
FILM_WEIGHTS = {50, 51, 52, 100, 101, 150, 200, 205, 210, 220, 225, 230, 235, 240, 245, 250}
FILM_VALUE = {name: value for value, name in FILM_MEDALS.items()}

# Personal score awards: NameId, points per award.
PS_KILL, PS_ASSIST, PS_MARK, PS_SELF = (1024030246, 100), (638246808, 50), (152718958, 10), (249491819, -100)
PS_FLAG_CAPTURED, PS_FLAG_STOLEN, PS_FLAG_RETURNED = (601966503, 300), (3002710045, 25), (22113181, 25)
PS_RUNNER_STOPPED, PS_FLAG_TAKEN = (316828380, 25), (2387185397, 10)
PS_BALL_CONTROL, PS_BALL_TAKEN, PS_CARRIER_STOPPED = (454168309, 50), (204144695, 10), (746397417, 25)
PS_ZONE_CAPTURED, PS_ZONE_SECURED = (3507884073, 50), (709346128, 25)
PS_SENSOR, PS_HILL_CONTROL, PS_HILL_SCORED = (1267013266, 10), (340198991, 25), (1032565232, 100)
PS_DESTROYED_GHOST, PS_HIJACKED_WARTHOG, PS_DRIVER_ASSIST = (4254982885, 50), (1834653062, 25), (963594075, 50)
CUSTOM_PS = 4294967295

MULTIKILL = ("Double Kill", "Triple Kill", "Overkill", "Killtacular", "Killtrocity", "Killamanjaro",
             "Killtastrophe", "Killpocalypse", "Killionaire")
SPREES = {5: "Killing Spree", 10: "Killing Frenzy", 15: "Running Riot", 20: "Rampage", 25: "Nightmare",
          30: "Boogeyman"}
# At most one of these per kill: (medal, probability).
PER_KILL = (("Perfect", 0.10), ("Reversal", 0.04), ("Killjoy", 0.03), ("Snipe", 0.03), ("Back Smack", 0.025),
            ("Nade Shot", 0.015), ("Stick", 0.01), ("Guardian Angel", 0.01), ("From the Grave", 0.006),
            ("No Scope", 0.005), ("Quick Draw", 0.005), ("Sneak King", 0.004), ("Shot Caller", 0.0))
_PER_KILL_CUM = tuple(accumulate(p for _, p in PER_KILL))
MODE_MEDALS = {
    cat.CTF: ("Flag Joust", "Goal Line Stand", "Stopped Short"),
    cat.ODDBALL: ("Fumble", "Straight Balling"),
    cat.STRONGHOLDS: ("Always Rotating", "Clock Stop"),
    cat.KOTH: ("Hill Guardian", "Clock Stop"),
    cat.INFECTION: ("Zombie Slayer", "Blight", "Disease", "Undead Hunter"),
    cat.FIREFIGHT: ("Extermination", "Culling"),
}

CORE_KEYS = ("Score", "PersonalScore", "RoundsWon", "RoundsLost", "RoundsTied", "Kills", "Deaths", "Assists",
             "KDA", "Suicides", "Betrayals", "AverageLifeDuration", "GrenadeKills", "HeadshotKills", "MeleeKills",
             "PowerWeaponKills", "ShotsFired", "ShotsHit", "Accuracy", "DamageDealt", "DamageTaken",
             "CalloutAssists", "VehicleDestroys", "DriverAssists", "Hijacks", "EmpAssists", "MaxKillingSpree",
             "Medals", "PersonalScores", "DeprecatedDamageDealt", "DeprecatedDamageTaken", "Spawns",
             "ObjectivesCompleted")
SUM_KEYS = ("Score", "PersonalScore", "Kills", "Deaths", "Assists", "Suicides", "Betrayals", "GrenadeKills",
            "HeadshotKills", "MeleeKills", "PowerWeaponKills", "ShotsFired", "ShotsHit", "DamageDealt",
            "DamageTaken", "CalloutAssists", "VehicleDestroys", "DriverAssists", "Hijacks", "EmpAssists",
            "Spawns", "ObjectivesCompleted")
BLOCK_NAME = {cat.CTF: "CaptureTheFlagStats", cat.ODDBALL: "OddballStats", cat.STRONGHOLDS: "ZonesStats",
              cat.KOTH: "ZonesStats", cat.INFECTION: "InfectionStats", cat.FIREFIGHT: "EliminationStats"}
DURATION_KEYS = {"TimeAsFlagCarrier", "LongestTimeAsSkullCarrier", "TimeAsSkullCarrier",
                 "StrongholdOccupationTime", "TimeAsLastSpartanStanding"}
MAX_KEYS = {"LongestTimeAsSkullCarrier"}
PVE_SPECIES = ("MarineKills", "GruntKills", "JackalKills", "EliteKills", "BruteKills", "HunterKills",
               "SkimmerKills", "SentinelKills", "BossKills")
_PVE_SHARES = (0.0, 0.3, 0.32, 0.12, 0.12, 0.02, 0.12, 0.0, 0.0)
INF = 1 << 62


# ---------------------------------------------------------------- helpers


def _ri(rng: random.Random, low: int, high: int) -> int:
    """A uniform integer in [low, high] (cheaper than Random.randint; the generator's hot path)."""
    return low + int(rng.random() * (high - low + 1))


def _rr(rng: random.Random, n: int) -> int:
    """A uniform integer in [0, n)."""
    return int(rng.random() * n)


# ---------------------------------------------------------------- formatting

def iso_time(epoch_ms: int) -> str:
    """`2025-01-29T04:07:25.964Z`, trailing zeros of the milliseconds trimmed as the API does."""
    d = EPOCH + dt.timedelta(milliseconds=epoch_ms)
    base = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    ms = epoch_ms % 1000
    return f"{base}.{ms:03d}".rstrip("0") + "Z" if ms else base + "Z"


def iso_duration(ticks: int) -> str:
    """100-ns ticks -> `PT9M9.4211615S` (ISO-8601 as .NET writes TimeSpan)."""
    seconds, frac = divmod(ticks, TICKS)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if frac:
        out += f"{secs}.{frac:07d}".rstrip("0") + "S"
    elif secs or out == "PT":
        out += f"{secs}S"
    return out


def kda(kills: int, deaths: int, assists: int) -> float:
    """kills + assists/3 - deaths, truncated toward zero to 2 decimals (the API's value)."""
    n = (3 * kills + assists - 3 * deaths) * 100
    q = abs(n) // 3
    return (q if n >= 0 else -q) / 100


def accuracy(hit: int, fired: int) -> float:
    return (hit * 10000 // fired) / 100 if fired else 0.0


def split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """Integer partition of `total` proportional to weights (largest remainder, random tie-break)."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], rng.random()))
    for i in order[:rest]:
        out[i] += 1
    return out


# ---------------------------------------------------------------- participants

@dataclass
class Person:
    pid: str
    xuid: int | None  # None for bots
    gamertag: str | None
    skill: float
    mmr: float
    team: int = 0
    join: int = 0  # ms after the match's start
    leave: int = INF
    difficulty: int | None = None
    tracked: int | None = None  # index of the tracked player
    kills: list = field(default_factory=list)
    deaths: list = field(default_factory=list)
    assists: int = 0
    suicides: int = 0
    num: dict = field(default_factory=dict)
    block: dict = field(default_factory=dict)
    medals: dict = field(default_factory=dict)
    medal_events: list = field(default_factory=list)
    mode_events: int = 0
    ps: list = field(default_factory=list)
    outcome: int = 0
    rank: int = 0
    block_units: int = 0
    pve: dict | None = None
    csr: int = 0
    csr_post: int | None = None


@dataclass
class MatchPlan:
    """What to play: a playlist (None for a custom game), its map-mode pair and the slots."""

    playlist: cat.PlaylistDef | None
    pair: cat.PairDef
    people: list[Person]
    teams: int  # 2, 1 (Firefight) or 0 (free-for-all)
    ranked: bool
    extra_people: list[Person] = field(default_factory=list)  # who may join in progress


@dataclass
class MatchOutput:
    match_id: str
    stats: dict
    skill: dict | None
    highlights: dict | None
    people: list[Person]
    start_ms: int
    end_ms: int
    match_info: dict


# ---------------------------------------------------------------- simulation

def _pick(rng: random.Random, people: list[Person], cum: list[float], t: int, exclude=None) -> Person | None:
    total = cum[-1]
    for _ in range(12):
        p = people[bisect.bisect_right(cum, rng.random() * total)]
        if p.join <= t < p.leave and p is not exclude:
            return p
    return None


def simulate_kills(rng: random.Random, plan: MatchPlan, dur_ms: int, rate: float, target: int | None) -> int:
    """Kill stream; returns the (possibly shortened, or overtime-extended) match length in ms."""
    people = plan.people
    ffa = plan.teams == 0
    killer_cum = list(accumulate(p.skill for p in people))
    if ffa:
        victims = {None: (people, list(accumulate(1 / p.skill for p in people)))}
    else:
        victims, mates = {}, {}
        for team in (0, 1):
            opp = [p for p in people if p.team != team]
            own = [p for p in people if p.team == team]
            victims[team] = (opp, list(accumulate(1 / p.skill for p in opp)))
            mates[team] = own
    team_kills = [0, 0]
    lam = rate * len(people) / 1000.0  # kills per ms
    t = last = 0
    static = all(p.join == 0 and p.leave == INF for p in people) and all(pool for pool, _ in victims.values())
    bisect_right, random_, log = bisect.bisect_right, rng.random, math.log
    killer_total = killer_cum[-1]
    cap = dur_ms
    hard_cap = dur_ms + 90_000
    while True:
        t += int(-log(1.0 - random_()) / lam) + 1
        if t >= cap and (target is None or ffa or team_kills[0] != team_kills[1] or t >= hard_cap):
            break
        if static:  # nobody joins or leaves: no presence checks needed
            killer = people[bisect_right(killer_cum, random_() * killer_total)]
            pool, cum = victims[None] if ffa else victims[killer.team]
            victim = pool[bisect_right(cum, random_() * cum[-1])]
            if victim is killer:
                continue
        else:
            killer = _pick(rng, people, killer_cum, t)
            if killer is None:
                continue
            pool, cum = victims[None] if ffa else victims[killer.team]
            if not pool:
                continue
            victim = _pick(rng, pool, cum, t, exclude=killer)
            if victim is None:
                continue
        killer.kills.append(t)
        victim.deaths.append(t)
        last = t
        if not ffa:
            team_kills[killer.team] += 1
            if rng.random() < 0.5:
                mate = rng.choice(mates[killer.team])
                if mate is not killer and mate.join <= t < mate.leave:
                    mate.assists += 1
            if rng.random() < 0.025:  # trade: both die at the same millisecond
                victim.kills.append(t)
                killer.deaths.append(t)
                team_kills[victim.team] += 1
        elif rng.random() < 0.1:
            mate = rng.choice(people)
            if mate is not killer and mate is not victim and mate.join <= t < mate.leave:
                mate.assists += 1
        if target is not None and not ffa and max(team_kills) >= target:
            return t + 1500
    return dur_ms if last < dur_ms else last + 1500


def _medals_from_kills(rng: random.Random, p: Person, with_style: bool) -> int:
    """Multikill, spree and per-kill style medals (with their film times); returns MaxKillingSpree."""
    medals, events = p.medals, p.medal_events
    prev = -10_000
    chain = 0
    spree = best = 0
    deaths = p.deaths
    di = 0
    nd = len(deaths)
    for t in p.kills:
        while di < nd and deaths[di] < t:
            spree = 0
            di += 1
        spree += 1
        if spree > best:
            best = spree
        chain = chain + 1 if t - prev <= 4500 else 1
        prev = t
        if chain >= 2:
            name = MULTIKILL[min(chain, 10) - 2]
            medals[name] = medals.get(name, 0) + 1
            events.append((t, name))
        name = SPREES.get(spree)
        if name:
            medals[name] = medals.get(name, 0) + 1
            events.append((t, name))
        if with_style:
            r = rng.random()
            if r < _PER_KILL_CUM[-1]:
                name = PER_KILL[bisect.bisect_right(_PER_KILL_CUM, r)][0]
                medals[name] = medals.get(name, 0) + 1
                events.append((t + 1, name))
    return best


def _award(p: Person, name: str, count: int, rng: random.Random, span: int) -> None:
    if count > 0:
        p.medals[name] = p.medals.get(name, 0) + count
        for _ in range(count):
            p.medal_events.append((p.join + _rr(rng, max(1, min(span, p.leave) - p.join)), name))


def _core(rng: random.Random, p: Person, played_ms: int, arena: bool, vehicles: bool, spree: int) -> dict:
    k, d, a = len(p.kills), len(p.deaths), p.assists
    fired = int(k * rng.uniform(9, 14) + d * rng.uniform(3, 6) + a * 3 + _ri(rng, 10, 60)) if arena else \
        int(k * rng.uniform(6, 9) + _ri(rng, 20, 80))
    acc = min(0.645, max(0.305, rng.gauss(0.47 + 0.05 * (p.skill - 1), 0.06)))
    hit = int(fired * acc + 0.5)
    head = int(k * rng.uniform(0.4, 0.75))
    melee = int((k - head) * rng.uniform(0, 0.35))
    grenade = int((k - head - melee) * rng.uniform(0, 0.25))
    power = min(k, int(k * rng.uniform(0, 0.2)))
    dealt = k * _ri(rng, 190, 260) + a * _ri(rng, 40, 90) + _ri(rng, 0, 300)
    taken = d * _ri(rng, 200, 260) + _ri(rng, 0, 400)
    callouts = _ri(rng, 0, 6) if arena else _ri(rng, 0, 2)
    destroys = _ri(rng, 0, 3) if vehicles else 0
    hijacks = _ri(rng, 0, 1) if vehicles else 0
    driver = _ri(rng, 0, 2) if vehicles else 0
    emp = 1 if rng.random() < 0.05 else 0
    life_ticks = played_ms * 10_000 // (d + 1)
    return {"Kills": k, "Deaths": d, "Assists": a, "Suicides": p.suicides, "Betrayals": 0, "GrenadeKills": grenade,
            "HeadshotKills": head, "MeleeKills": melee, "PowerWeaponKills": power, "ShotsFired": fired,
            "ShotsHit": hit, "DamageDealt": dealt, "DamageTaken": taken, "CalloutAssists": callouts,
            "VehicleDestroys": destroys, "DriverAssists": driver, "Hijacks": hijacks, "EmpAssists": emp,
            "Spawns": d + 1, "ObjectivesCompleted": 0, "MaxKillingSpree": spree,
            "AverageLifeDuration": life_ticks - life_ticks % 1_000_000, "Score": 0, "PersonalScore": 0,
            "RoundsWon": 0, "RoundsLost": 0, "RoundsTied": 0}


def _ps(p: Person, award: tuple[int, int], count: int) -> None:
    if count > 0:
        p.ps.append((award[0], count, award[1] * count))


def _stats_json(num: dict, block_name: str | None, block: dict | None, medals: dict, ps: list, pve: dict | None,
                kills_deaths_assists=None) -> dict:
    k, d, a = num["Kills"], num["Deaths"], num["Assists"]
    the_kda = kda(k, d, a)
    core = {
        "Score": num["Score"], "PersonalScore": num["PersonalScore"], "RoundsWon": num["RoundsWon"],
        "RoundsLost": num["RoundsLost"], "RoundsTied": num["RoundsTied"], "Kills": k, "Deaths": d, "Assists": a,
        "KDA": the_kda, "Suicides": num["Suicides"], "Betrayals": num["Betrayals"],
        "AverageLifeDuration": iso_duration(num["AverageLifeDuration"]), "GrenadeKills": num["GrenadeKills"],
        "HeadshotKills": num["HeadshotKills"], "MeleeKills": num["MeleeKills"],
        "PowerWeaponKills": num["PowerWeaponKills"], "ShotsFired": num["ShotsFired"], "ShotsHit": num["ShotsHit"],
        "Accuracy": accuracy(num["ShotsHit"], num["ShotsFired"]), "DamageDealt": num["DamageDealt"],
        "DamageTaken": num["DamageTaken"], "CalloutAssists": num["CalloutAssists"],
        "VehicleDestroys": num["VehicleDestroys"], "DriverAssists": num["DriverAssists"], "Hijacks": num["Hijacks"],
        "EmpAssists": num["EmpAssists"], "MaxKillingSpree": num["MaxKillingSpree"],
        "Medals": [{"NameId": cat.MEDAL_IDS[name], "Count": c, "TotalPersonalScoreAwarded": 0}
                   for name, c in medals.items()],
        "PersonalScores": [{"NameId": n, "Count": c, "TotalPersonalScoreAwarded": s} for n, c, s in ps],
        "DeprecatedDamageDealt": float(num["DamageDealt"]), "DeprecatedDamageTaken": float(num["DamageTaken"]),
        "Spawns": num["Spawns"], "ObjectivesCompleted": num["ObjectivesCompleted"],
    }
    stats = {"CoreStats": core}
    if pve is not None:
        stats[block_name] = _block_json(block)
        out = {"Kills": k, "Deaths": d, "Assists": a, "KDA": the_kda}
        out.update(pve)
        stats["PveStats"] = out
        return stats
    if block_name:
        stats[block_name] = _block_json(block)
    stats["PvpStats"] = {"Kills": k, "Deaths": d, "Assists": a, "KDA": the_kda}
    return stats


def _block_json(block: dict) -> dict:
    return {key: (iso_duration(v) if key in DURATION_KEYS else v) for key, v in block.items()}


def _merge_block(blocks: list[dict]) -> dict:
    out: dict = {}
    for key in blocks[0]:
        values = [b[key] for b in blocks]
        if key in MAX_KEYS:
            out[key] = max(values)
        elif values[0] is None:
            out[key] = 0 if key == "LivesRemaining" else None
        elif key == "EliminationOrder":
            out[key] = 0
        else:
            out[key] = sum(values)
    return out


def _mode_block(rng: random.Random, cat_: int, p: Person, team_units: int, dur_s: float) -> dict:
    """Mode block of one player; `team_units` is the player's share of the team objective (captures/ticks)."""
    k = len(p.kills)
    if cat_ == cat.CTF:
        grabs = team_units + _ri(rng, 0, 4)
        carriers = min(k, _ri(rng, 0, 4))
        returns = _ri(rng, 0, 3)
        steals = min(grabs, team_units + _ri(rng, 0, 3))
        _ps(p, PS_FLAG_CAPTURED, team_units)
        _ps(p, PS_FLAG_STOLEN, steals)
        _ps(p, PS_FLAG_RETURNED, returns)
        _ps(p, PS_RUNNER_STOPPED, carriers)
        _ps(p, PS_FLAG_TAKEN, grabs - steals)
        p.mode_events = grabs + returns + team_units
        carrier_ticks = int((team_units * 25 + grabs * rng.uniform(2, 9)) * TICKS) // 1_000_000 * 1_000_000
        return {"FlagCaptureAssists": _ri(rng, 0, 1) if team_units else 0, "FlagCaptures": team_units,
                "FlagCarriersKilled": carriers, "FlagGrabs": grabs, "FlagReturnersKilled": _ri(rng, 0, 1),
                "FlagReturns": returns, "FlagSecures": _ri(rng, 0, 5), "FlagSteals": steals,
                "KillsAsFlagCarrier": min(k, _ri(rng, 0, 1)), "KillsAsFlagReturner": 0,
                "TimeAsFlagCarrier": carrier_ticks}
    if cat_ == cat.ODDBALL:
        grabs = max(1 if team_units else 0, team_units // 40 + _ri(rng, 0, 2))
        carriers = min(k, _ri(rng, 0, 5))
        held = team_units * TICKS + _ri(rng, 0, 30) * TICKS
        held -= held % 1_000_000
        longest = min(held, int(held * rng.uniform(0.3, 0.8)) // 1_000_000 * 1_000_000)
        _ps(p, PS_BALL_CONTROL, team_units // 7)
        _ps(p, PS_BALL_TAKEN, grabs)
        _ps(p, PS_CARRIER_STOPPED, carriers)
        p.mode_events = grabs + team_units // 25
        return {"KillsAsSkullCarrier": min(k, _ri(rng, 0, 1)), "LongestTimeAsSkullCarrier": longest,
                "SkullCarriersKilled": carriers, "SkullGrabs": grabs, "TimeAsSkullCarrier": held,
                "SkullScoringTicks": team_units}
    if cat_ in (cat.STRONGHOLDS, cat.KOTH):
        captures = _ri(rng, 1, 9)
        secures = _ri(rng, 0, 5)
        offensive = min(k, _ri(rng, 0, max(1, k // 3)))
        defensive = min(k - offensive, _ri(rng, 0, max(1, k // 4)))
        occupied = int(rng.uniform(40, 0.45 * dur_s) * TICKS) // 1_000_000 * 1_000_000
        _ps(p, PS_ZONE_CAPTURED, captures)
        _ps(p, PS_ZONE_SECURED, secures)
        p.mode_events = captures + secures
        return {"StrongholdCaptures": captures, "StrongholdDefensiveKills": defensive,
                "StrongholdOffensiveKills": offensive, "StrongholdSecures": secures,
                "StrongholdOccupationTime": occupied, "StrongholdScoringTicks": 0}
    if cat_ == cat.INFECTION:
        infected = min(k, _ri(rng, 0, 4))
        last = _ri(rng, 0, 2)
        _ps(p, PS_SENSOR, _ri(rng, 0, 3))
        for value in (7, 9, 15):
            _ps(p, (CUSTOM_PS, value), _ri(rng, 0, 4))
        return {"AlphasKilled": _ri(rng, 0, 1), "SpartansInfected": infected,
                "SpartansInfectedAsAlpha": min(infected, _ri(rng, 0, 1)),
                "KillsAsLastSpartanStanding": min(k - infected, _ri(rng, 0, 3)) if last else 0,
                "LastSpartansStandingInfected": _ri(rng, 0, 1), "RoundsAsAlpha": _ri(rng, 0, 1),
                "RoundsAsLastSpartanStanding": last, "RoundsFinishedAsInfected": _ri(rng, 2, 7),
                "RoundsSurvivedAsSpartan": _ri(rng, 0, 2), "RoundsSurvivedAsLastSpartanStanding": 0,
                "TimeAsLastSpartanStanding": int(last * rng.uniform(5, 30) * 10) * 1_000_000,
                "InfectedKilled": k - infected}
    # Firefight
    return {"AlliesRevived": _ri(rng, 0, 3), "EliminationAssists": 0, "Eliminations": 0, "EnemyRevivesDenied": 0,
            "Executions": 0, "KillsAsLastPlayerStanding": 0, "LastPlayersStandingKilled": 0, "RoundsSurvived": 0,
            "TimesRevivedByAlly": _ri(rng, 0, 3), "LivesRemaining": None, "EliminationOrder": 0}


def _rank(people: list[Person], key) -> None:
    keys = [key(p) for p in people]
    ordered = sorted(keys)
    for p, k in zip(people, keys):
        p.rank = bisect.bisect_left(ordered, k) + 1


def play(rng: random.Random, plan: MatchPlan, match_id: str, start_ms: int, season: str | None,
         film: bool) -> MatchOutput:
    """Simulate one planned match and build its documents."""
    pair, pl = plan.pair, plan.playlist
    category = pair.variant.category
    people = plan.people
    pve = category == cat.FIREFIGHT
    btb = pl is not None and pl.key == "btb"
    arena = not pve

    # length and kills
    if category == cat.SLAYER:
        dur_ms = _ri(rng, 480_000, 600_000)
    elif category == cat.INFECTION:
        dur_ms = _ri(rng, 300_000, 420_000)
    elif pve:
        dur_ms = _ri(rng, 660_000, 900_000)
    else:
        dur_ms = _ri(rng, 510_000, 690_000)
    if btb:
        dur_ms += _ri(rng, 60_000, 180_000)
    n_people = len(people)

    # early leavers (and their replacements) in matchmade PvP
    if pl is not None and not pve and n_people >= 8:
        humans = [p for p in people if p.xuid is not None]
        if rng.random() < 0.015:
            tracked = [p for p in humans if p.tracked is not None]
            if tracked:
                rng.choice(tracked).leave = _ri(rng, int(dur_ms * 0.3), int(dur_ms * 0.85))
        if rng.random() < 0.07:
            others = [p for p in humans if p.tracked is None and p.leave == INF]
            if others:
                leaver = rng.choice(others)
                leaver.leave = _ri(rng, int(dur_ms * 0.25), int(dur_ms * 0.85))
                if not plan.ranked and plan.extra_people and rng.random() < 0.6:
                    joiner = plan.extra_people.pop()
                    joiner.team = leaver.team
                    joiner.join = min(dur_ms - 30_000, leaver.leave + _ri(rng, 3_000, 20_000))
                    people.append(joiner)

    if pve:
        end = dur_ms
        for p in people:
            k = int(p.skill * rng.uniform(45, 100)) if p.xuid is not None else int(p.skill * rng.uniform(10, 30))
            p.kills = sorted(int(rng.random() * dur_ms) for _ in range(k))
            p.deaths = sorted(int(rng.random() * dur_ms) for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 5))))
            p.assists = int(k * rng.uniform(0.2, 0.4))
    else:
        rate = {cat.SLAYER: 0.0185, cat.INFECTION: 0.02}.get(category, 0.016)
        if btb:
            rate = 0.015
        target = None
        if category == cat.SLAYER:
            target = 100 if btb else (50 if n_people >= 6 else 25)
        end = simulate_kills(rng, plan, dur_ms, rate, target)
    # a slayer match can end before a planned leave or join: then it did not happen
    people[:] = [p for p in people if p.join < end - 5_000]
    for p in people:
        if p.leave != INF and p.leave >= end - 5_000:
            p.leave = INF
    for p in people:
        if rng.random() < 0.04 and end > p.join:
            p.suicides += 1
            t = p.join + _rr(rng, max(1, min(end, p.leave) - p.join))
            bisect.insort(p.deaths, t)
    dur_ms = end

    # winner
    teams = plan.teams
    if teams == 2:
        strength = [sum(p.skill for p in people if p.team == t) for t in (0, 1)]
        if category == cat.SLAYER:
            tk = [sum(len(p.kills) for p in people if p.team == t) for t in (0, 1)]
            winner = 0 if tk[0] > tk[1] else 1 if tk[1] > tk[0] else (0 if strength[0] >= strength[1] else 1)
        else:
            p0 = strength[0] ** 3 / (strength[0] ** 3 + strength[1] ** 3)
            winner = 0 if rng.random() < p0 else 1
    elif teams == 1:
        winner = 0 if rng.random() < 0.82 else 1  # team 1 is the AI
    else:
        winner = None

    # per-player numbers
    vehicles = btb
    team_units = {}
    team_score = {}
    rounds = {}
    if teams == 2:
        loser = 1 - winner
        members = {t: [p for p in people if p.team == t] for t in (0, 1)}
        if category == cat.CTF:
            win_caps = rng.choice((1, 2, 3, 3, 3))
            units = {winner: win_caps, loser: _ri(rng, 0, win_caps - 1)}
            rounds = {winner: (1, 0), loser: (0, 1)}
        elif category == cat.ODDBALL:
            lost_rounds = _ri(rng, 0, 1)
            units = {winner: 200 + (_ri(rng, 0, 99) if lost_rounds else 0),
                     loser: 100 * lost_rounds + _ri(rng, 0, 99) + _ri(rng, 0, 99)}
            rounds = {winner: (2, lost_rounds), loser: (lost_rounds, 2)}
        else:
            units = {}
            rounds = {winner: (1, 0), loser: (0, 1)}
            if category in (cat.STRONGHOLDS, cat.KOTH):
                team_score = {winner: 250, loser: _ri(rng, 90, 245)}
        for t in (0, 1):
            if t in units:
                team_units[t] = units[t]
                shares = split(rng, units[t], [p.skill * rng.uniform(0.3, 1.7) * (min(p.leave, dur_ms) - p.join)
                                               for p in members[t]])
                for p, s in zip(members[t], shares):
                    p.block_units = s
    elif teams == 1:
        team_score = {0: 5 if winner == 0 else _ri(rng, 1, 4), 1: 0}
        rounds = {0: (1, 0) if winner == 0 else (0, 1), 1: (0, 0)}

    ffa_rounds = _ri(rng, 4, 8)
    for p in people:
        played = min(p.leave, dur_ms) - p.join
        spree = _medals_from_kills(rng, p, with_style=arena)
        num = _core(rng, p, played, arena, vehicles, spree)
        units = p.block_units
        if category in BLOCK_NAME:
            p.block = _mode_block(rng, category, p, units, played / 1000)
        if teams:
            won, lost = rounds.get(p.team, (0, 0))
            num["RoundsWon"], num["RoundsLost"] = won, lost
        else:
            won = _ri(rng, 0, 2)
            num["RoundsWon"], num["RoundsLost"] = won, ffa_rounds - won
        if category == cat.SLAYER:
            num["Score"] = num["Kills"]
        elif category in (cat.CTF, cat.ODDBALL):
            num["Score"] = units
        elif category == cat.INFECTION:
            num["Score"] = num["Kills"] * 25 + _ri(rng, 0, 6) * 15 + _ri(rng, 0, 40)
        num["ObjectivesCompleted"] = 0
        if not pve:
            _ps(p, PS_KILL, num["Kills"])
            _ps(p, PS_ASSIST, num["Assists"])
        _ps(p, PS_MARK, num["CalloutAssists"])
        _ps(p, PS_SELF, num["Suicides"])
        if vehicles:
            _ps(p, PS_DESTROYED_GHOST, num["VehicleDestroys"])
            _ps(p, PS_HIJACKED_WARTHOG, num["Hijacks"])
            _ps(p, PS_DRIVER_ASSIST, num["DriverAssists"])
        if pve:
            k = num["Kills"]
            a17 = int(k * 0.6)
            _ps(p, (CUSTOM_PS, 17), a17)
            _ps(p, (CUSTOM_PS, 18), k - a17)
            _ps(p, (CUSTOM_PS, 22), num["Assists"])
            _ps(p, PS_HILL_CONTROL, _ri(rng, 20, 80))
            _ps(p, PS_HILL_SCORED, _ri(rng, 0, 5))
            species = split(rng, k, [s * rng.uniform(0.5, 1.5) for s in _PVE_SHARES])
            p.pve = dict(zip(PVE_SPECIES, species))
            boss = min(p.pve["GruntKills"], rng.choice((0, 0, 0, 1, 2)))
            p.pve["GruntKills"] -= boss
            p.pve["BossKills"] += boss
        # proficiency and mode medals
        _award(p, "Wingman", num["Assists"] // 5, rng, dur_ms)
        _award(p, "Boxer", num["MeleeKills"] // 3, rng, dur_ms)
        _award(p, "Grenadier", num["GrenadeKills"] // 3, rng, dur_ms)
        _award(p, "Rifleman", num["HeadshotKills"] // 7, rng, dur_ms)
        _award(p, "Shot Caller", num["CalloutAssists"] // 5, rng, dur_ms)
        mode_medals = MODE_MEDALS.get(category)
        if mode_medals and rng.random() < 0.3:
            _award(p, rng.choice(mode_medals), 1, rng, dur_ms)
        num["PersonalScore"] = sum(s for _, _, s in p.ps)
        p.num = num

    # outcomes and ranks
    for p in people:
        if teams:
            p.outcome = 2 if p.team == winner else 3
        if p.leave != INF:
            p.outcome = 4
    if teams:
        _rank(people, lambda p: (0 if p.team == winner else 1, -p.num["Score"]))
    else:
        _rank(people, lambda p: -p.num["Score"])
        best = min(people, key=lambda p: p.rank)
        for p in people:
            p.outcome = 4 if p.leave != INF else (2 if p is best else 3)

    # times
    pre_ms = _ri(rng, 0, 30_000)
    begin = start_ms + pre_ms
    playable_ticks = dur_ms * 10_000
    duration_ticks = playable_ticks + _ri(rng, 0, 300_000)
    end_ms = begin + dur_ms

    mi = {
        "StartTime": iso_time(start_ms),
        "EndTime": iso_time(end_ms),
        "Duration": iso_duration(duration_ticks),
        "LifecycleMode": 3 if pl is not None else 1,
        "GameVariantCategory": category,
        "LevelId": pair.map.level_id,
        "MapVariant": {"AssetKind": 2, "AssetId": pair.map.asset_id, "VersionId": pair.map.version_id},
        "UgcGameVariant": {"AssetKind": 6, "AssetId": pair.variant.asset_id, "VersionId": pair.variant.version_id},
        "ClearanceId": cat.CLEARANCE_MATCHMADE if pl is not None else cat.CLEARANCE_CUSTOM,
        "Playlist": {"AssetKind": 3, "AssetId": pl.asset_id, "VersionId": pl.version_id} if pl else None,
        "PlaylistExperience": pl.experience if pl else None,
        "PlaylistMapModePair": {"AssetKind": 7, "AssetId": pair.asset_id, "VersionId": pair.version_id}
        if pl else None,
        "SeasonId": season if pl else None,
        "PlayableDuration": iso_duration(playable_ticks),
        "TeamsEnabled": teams != 0,
        "TeamScoringEnabled": teams != 0,
        "GameplayInteraction": 2 if pve else 1,
    }
    block_name = BLOCK_NAME.get(category)
    players_json = []
    for p in people:
        joined = begin + p.join + (_ri(rng, 0, 9) if p.join == 0 else 0)
        left = p.leave != INF
        played = (min(p.leave, dur_ms) - p.join) * 10_000
        players_json.append({
            "PlayerId": p.pid,
            "PlayerType": 1 if p.xuid is not None else 2,
            "BotAttributes": {"Difficulty": p.difficulty} if p.xuid is None else None,
            "LastTeamId": p.team,
            "Outcome": p.outcome,
            "Rank": p.rank,
            "ParticipationInfo": {
                "FirstJoinedTime": iso_time(joined),
                "LastLeaveTime": iso_time(begin + p.leave) if left else None,
                "PresentAtBeginning": p.join == 0 and p.xuid is not None,
                "JoinedInProgress": p.join > 0,
                "LeftInProgress": left,
                "PresentAtCompletion": not left,
                "TimePlayed": iso_duration(played),
                "ConfirmedParticipation": None,
            },
            "PlayerTeamStats": [{"TeamId": p.team, "Stats": _stats_json(
                p.num, block_name, p.block, p.medals, p.ps, p.pve if pve else None)}],
        })

    teams_json = []
    if teams:
        team_ids = (0, 1)
        for t in team_ids:
            mem = [p for p in people if p.team == t]
            if t == winner:
                outcome, rank = 2, 1
            else:
                outcome, rank = (4 if pve and t == 1 else 3), 2
            if not mem:  # Firefight's AI team
                num = dict.fromkeys(SUM_KEYS, 0)
                num.update(RoundsWon=rounds.get(t, (0, 0))[0], RoundsLost=rounds.get(t, (0, 0))[1], RoundsTied=0,
                           MaxKillingSpree=0, AverageLifeDuration=0)
                blk = dict.fromkeys(_mode_block(rng, category, Person("", None, None, 1, 0), 0, 0), 0)
                stats = _stats_json(num, block_name, blk, {}, [], dict.fromkeys(PVE_SPECIES, 0))
            else:
                num = {key: sum(p.num[key] for p in mem) for key in SUM_KEYS}
                num["RoundsWon"], num["RoundsLost"] = mem[0].num["RoundsWon"], mem[0].num["RoundsLost"]
                num["RoundsTied"] = 0
                num["MaxKillingSpree"] = max(p.num["MaxKillingSpree"] for p in mem)
                total_played = sum(min(p.leave, dur_ms) - p.join for p in mem) * 10_000
                life = total_played // max(1, num["Deaths"] + len(mem))
                num["AverageLifeDuration"] = life - life % 1_000_000
                if t in team_score:
                    num["Score"] = team_score[t]
                medals: dict = {}
                ps: dict = {}
                for p in mem:
                    for name, c in p.medals.items():
                        medals[name] = medals.get(name, 0) + c
                    for nid, c, s in p.ps:
                        key = (nid, s // c)
                        old = ps.get(key, (0, 0))
                        ps[key] = (old[0] + c, old[1] + s)
                ps_list = [(nid, c, s) for (nid, _), (c, s) in ps.items()]
                blk = _merge_block([p.block for p in mem]) if block_name else None
                if blk is not None and category in (cat.STRONGHOLDS, cat.KOTH):
                    blk["StrongholdScoringTicks"] = num["Score"]
                pve_block = None
                if pve:
                    pve_block = {s: sum(p.pve[s] for p in mem) for s in PVE_SPECIES}
                stats = _stats_json(num, block_name, blk, medals, ps_list, pve_block)
            teams_json.append({"TeamId": t, "Outcome": outcome, "Rank": rank, "Stats": stats})

    stats_doc = {"MatchId": match_id, "MatchInfo": mi, "Teams": teams_json, "Players": players_json}

    skill = None
    if pl is not None and teams == 2 and pl.key != "bot_bootcamp":
        skill = _skill_doc(rng, plan, people, winner)

    highlights = None
    if film and not pve and all(p.xuid is not None for p in people):
        highlights = _highlights(rng, match_id, people, dur_ms)
    return MatchOutput(match_id, stats_doc, skill, highlights, people, start_ms, end_ms, mi)


# ---------------------------------------------------------------- skill

TIERS = ("Bronze", "Silver", "Gold", "Platinum", "Diamond", "Onyx")


def csr_json(value: int) -> dict:
    if value >= 1500:
        return {"Value": value, "MeasurementMatchesRemaining": 0, "Tier": "Onyx", "TierStart": 1500, "SubTier": 0,
                "NextTier": "Onyx", "NextTierStart": 1500, "NextSubTier": 0, "InitialMeasurementMatches": 5}
    ti = value // 300
    sub = (value - ti * 300) // 50
    start = ti * 300 + sub * 50
    if sub < 5:
        nxt, nsub = TIERS[ti], sub + 1
    else:
        nxt, nsub = TIERS[ti + 1], 0
    return {"Value": value, "MeasurementMatchesRemaining": 0, "Tier": TIERS[ti], "TierStart": start,
            "SubTier": sub, "NextTier": nxt, "NextTierStart": start + 50, "NextSubTier": nsub,
            "InitialMeasurementMatches": 5}


_TIER_SKILL = ((0.55, 1.25), (0.7, 1.15), (0.85, 1.05), (1.0, 1.0), (1.15, 0.93), (1.3, 0.87))


def _skill_doc(rng: random.Random, plan: MatchPlan, people: list[Person], winner: int) -> dict:
    mmrs = {}
    for t in (0, 1):
        mem = [p for p in people if p.team == t and p.join == 0]
        mmrs[t] = sum(p.mmr for p in mem) / max(1, len(mem)) + rng.uniform(-15, 15)
    values = []
    for p in sorted((p for p in people if p.tracked is not None), key=lambda p: p.xuid):
        k, d = len(p.kills), len(p.deaths)
        exp_k = max(0.5, k + rng.gauss(0, 3.5))
        exp_d = max(0.5, d + rng.gauss(0, 3.0))
        recap = None
        if plan.ranked:
            pre = p.csr
            if p.outcome == 4:
                delta = -_ri(rng, 12, 20)
            else:
                delta = (1 if p.team == winner else -1) * _ri(rng, 6, 12) + int((k - exp_k) / 3)
            post = max(0, pre + delta)
            p.csr_post = post
            recap = {"PreMatchCsr": csr_json(pre), "PostMatchCsr": csr_json(post)}
        values.append({"Id": p.pid, "ResultCode": 0, "Result": {
            "TeamMmr": mmrs[p.team],
            "RankRecap": recap,
            "StatPerformances": {
                "Kills": {"Count": k, "Expected": exp_k, "StdDev": 3 + math.sqrt(exp_k) * 0.6},
                "Deaths": {"Count": d, "Expected": exp_d, "StdDev": 3 + math.sqrt(exp_d) * 0.5},
            },
            "TeamId": p.team,
            "TeamMmrs": {"0": mmrs[0], "1": mmrs[1]},
            "RankedRewards": None,
            "Counterfactuals": {
                "SelfCounterfactuals": {"Kills": exp_k, "Deaths": exp_d},
                "TierCounterfactuals": {tier: {"Kills": exp_k * ks, "Deaths": exp_d * ds}
                                        for tier, (ks, ds) in zip(TIERS, _TIER_SKILL)},
            },
        }})
    return {"Value": values}


# ---------------------------------------------------------------- film highlights

def _highlights(rng: random.Random, match_id: str, people: list[Person], dur_ms: int) -> dict:
    events = []
    for p in people:
        x, g = p.xuid, p.gamertag
        for t in p.kills:
            events.append((t, 0, x, {"Xuid": x, "Gamertag": g, "TypeHint": 50, "IsMedal": False,
                                     "EventType": "kill", "TimeMs": t, "MedalValue": 0, "MedalName": None}))
        for t in p.deaths:
            events.append((t, 1, x, {"Xuid": x, "Gamertag": g, "TypeHint": 20, "IsMedal": False,
                                     "EventType": "death", "TimeMs": t, "MedalValue": 1, "MedalName": None}))
        for t, name in p.medal_events:
            value = FILM_VALUE.get(name)
            if value is None:
                continue
            weight = cat.MEDAL_BY_NAME[name][6]
            events.append((t, 2, x, {"Xuid": x, "Gamertag": g, "TypeHint": weight if weight in FILM_WEIGHTS else 50,
                                     "IsMedal": True, "EventType": "medal", "TimeMs": t, "MedalValue": value,
                                     "MedalName": name}))
        span = min(p.leave, dur_ms) - p.join
        for _ in range(p.mode_events):
            t = p.join + _rr(rng, max(1, span))
            events.append((t, 3, x, {"Xuid": x, "Gamertag": g, "TypeHint": 10, "IsMedal": False,
                                     "EventType": "mode", "TimeMs": t, "MedalValue": 2, "MedalName": None}))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return {"MatchId": match_id, "FilmMajorVersion": 38, "Events": [e[3] for e in events]}
