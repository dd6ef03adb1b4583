"""`halo stats --player GAMERTAG`: one screen of a player's record, from the built marts."""

import argparse

import duckdb
from rich.table import Table

from loader.cli.console import out
from loader.cli.exits import EXIT_OK
from loader.core.errors import NotFoundError
from loader.core.paths import metadata_db_path, player_db_path
from loader.warehouse.stats import MIN_MATCHES_FOR_RATES, player_stats

EXPERIENCES = {"pvp_matchmade": "PvP matchmade", "pvp_custom": "PvP custom games", "pve": "PvE (against AI)"}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def run(args: argparse.Namespace) -> int:
    database = player_db_path(args.player)
    if not database.is_file():
        raise NotFoundError(f"no player {args.player!r} under {database.parent.parent}: load their matches first")
    try:
        stats = player_stats(database, metadata_db_path())
    except duckdb.CatalogException:
        raise NotFoundError(f"{args.player!r} is not built yet: run halo build --player {args.player!r}") from None
    out.print(f"[bold]{args.player}[/bold]")

    record = Table("record", "matches", "W-L-T", "win rate", "K/D", "KDA", title="Record (no total mixes PvP "
                   "and PvE)", title_justify="left")
    for experience, matches, wins, losses, ties, win_rate, _kills, _deaths, kd, kda in stats.record:
        record.add_row(EXPERIENCES.get(experience, experience), str(matches), f"{wins}-{losses}-{ties}",
                       _pct(win_rate), _num(kd), _num(kda))
    out.print(record)

    if stats.csr:
        csr = Table("ranked playlist", "CSR", "tier", "season max", "tier at max", title="CSR", title_justify="left")
        for playlist, current, tier, best, best_tier in stats.csr:
            csr.add_row(playlist, str(current), tier or "-", str(best), best_tier or "-")
        out.print(csr)

    for title, rows in ((f"Top maps by win rate (PvP matchmade, {MIN_MATCHES_FOR_RATES}+ matches)", stats.maps),
                        (f"Top modes by win rate (PvP matchmade, {MIN_MATCHES_FOR_RATES}+ matches)", stats.modes)):
        table = Table("name", "matches", "win rate", "K/D", title=title, title_justify="left")
        for name, matches, win_rate, kd in rows:
            table.add_row(str(name), str(matches), _pct(win_rate), _num(kd))
        out.print(table)

    if stats.nemesis:
        name, killed_you, you_killed = stats.nemesis
        out.print(f"Nemesis: {name} (killed you {killed_you} times, you killed them {you_killed})", markup=False)
    if stats.victim:
        name, you_killed, killed_you = stats.victim
        out.print(f"Favourite victim: {name} (you killed them {you_killed} times, they killed you {killed_you})",
                  markup=False)
    if not stats.nemesis and not stats.victim:
        out.print("Nemesis, favourite victim: none known (who killed whom comes from the films' highlight events: "
                  "none of your PvP matchmade kills is in a loaded film)", markup=False)
    if stats.teammates:
        mates = ", ".join(f"{name} ({_pct(rate)} of {n})" for name, n, rate in stats.teammates)
        out.print(f"Best teammates (win rate together, {MIN_MATCHES_FOR_RATES}+ matches): {mates}", markup=False)
    if stats.career:
        rank, title, tier, grade, xp, is_max = stats.career
        named = " ".join(str(p) for p in (title, tier, grade) if p)
        if is_max:
            progress = "Hero reached"
        elif stats.hero_xp:
            progress = f"{xp:,} of {stats.hero_xp:,} XP to Hero ({xp / stats.hero_xp:.0%})"
        else:
            progress = f"{xp:,} XP"
        out.print(f"Career rank: {rank} ({named}), {progress}", markup=False)
    return EXIT_OK
