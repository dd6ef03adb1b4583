"""Shared bench helpers: data sets from the demo generator (cached), timing, peak memory of a process tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GiB = 1024 ** 3
MiB = 1024 ** 2
OWNER_XUID = 2533274900000101


def bench_dir() -> Path:
    """Where generated inputs and scratch warehouses live (HALO_BENCH_DIR, default <tmp>/halo-bench)."""
    path = Path(os.environ.get("HALO_BENCH_DIR") or Path(tempfile.gettempdir()) / "halo-bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# ---------------------------------------------------------------- peak memory


_HAS_PSS = sys.platform.startswith("linux")


def _result_files_bytes() -> int:
    """Bytes of the load workers' result files not yet mapped by the loader (`loader.ingest.load_matches.result_dir`: in
    /dev/shm they are memory that no process's PSS shows; once mapped they count in the loader's PSS)."""
    from loader.core.paths import RESULT_DIR_PREFIX

    total = 0
    for base in {"/dev/shm", tempfile.gettempdir()}:
        try:
            folders = [e.path for e in os.scandir(base) if e.name.startswith(RESULT_DIR_PREFIX) and e.is_dir()]
        except OSError:
            continue
        for folder in folders:
            with suppress(OSError):  # removed meanwhile
                total += sum(e.stat().st_size for e in os.scandir(folder) if e.is_file())
    return total


class PeakRss:
    """Sample the memory of a process and all its descendants every `interval` s (PSS on Linux, else RSS);
    keep the peak of the sum, plus the load workers' result files waiting in memory (`_result_files_bytes`).

    Reading a large process's PSS costs the kernel 4-7 ms (it walks the page tables): sampled every 20 ms, three
    processes kept the sampler busy about half of one core, taken from the step it measured, and most from the
    steps with several processes (halo's loads and many-player builds). Every 200 ms it costs ~3% of one core;
    the peaks measured here (batches in memory, DuckDB's buffers, dbt's manifests) last seconds."""

    def __init__(self, pid: int | None = None, interval: float = 0.2) -> None:
        import psutil

        self._proc = psutil.Process(pid or os.getpid())
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        import psutil

        total = 0
        try:
            procs = [self._proc, *self._proc.children(recursive=True)]
        except psutil.Error:
            return 0
        for proc in procs:
            # PSS: forked workers share their parent's pages; RSS would count those once per process
            with suppress(psutil.Error, AttributeError):
                total += proc.memory_full_info().pss if _HAS_PSS else proc.memory_info().rss
        return total + _result_files_bytes()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakRss:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


@dataclass
class Measured:
    seconds: float = 0.0
    peak_rss: int = 0
    extra: dict = field(default_factory=dict)


@contextmanager
def measure():
    """`with measure() as m:` -> m.seconds (wall) and m.peak_rss (this process and its children)."""
    m = Measured()
    sampler = PeakRss()
    started = time.perf_counter()
    with sampler:
        yield m
    m.seconds = time.perf_counter() - started
    m.peak_rss = sampler.peak


def run_child(args: list[str], env: dict[str, str] | None = None,
              timeout: float | None = None) -> tuple[dict, Measured]:
    """Run `python args...` in a fresh process; it prints one JSON line last. Returns (that JSON, wall + peak RSS)."""
    m = Measured()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})}, text=True)
    with PeakRss(proc.pid) as sampler:
        out, err = proc.communicate(timeout=timeout)
    m.seconds = time.perf_counter() - started
    m.peak_rss = sampler.peak
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{err[-4000:]}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), m


def warm_cache(folder: Path) -> int:
    """Read every file once so that every contender starts from the same (warm) page cache."""
    total = 0
    for path in folder.rglob("*.json"):
        total += len(path.read_bytes())
    return total


# ---------------------------------------------------------------- data sets


def _done(folder: Path) -> bool:
    return (folder / ".complete").exists()


def stats_files(n: int, players: int, seed: int = 11) -> Path:
    """`n` match-stats documents with exactly `players` players each, one file per document (cached)."""
    out = bench_dir() / f"stats-{n}x{players}-s{seed}"
    folder = out / "players" / "Demo Chief"
    if not _done(out):
        from loader.demo.generate import generate_player_matches

        fresh(out)
        generate_player_matches(out, "Demo Chief", OWNER_XUID, n, seed, n_players_per_match=players, stats_only=True)
        (out / ".complete").write_text("ok")
    return folder


def build_player_files(n: int, increment: int, film_share: float = 0.1, seed: int = 13) -> tuple[Path, Path, Path]:
    """One player with n + increment matches (natural mix, skill docs, film for `film_share`, history, career),
    split by start time into base/ (the first n matches) and increment/ (the newest `increment`). Also reference/."""
    out = bench_dir() / f"player-{n}+{increment}-f{film_share}-s{seed}"
    base, inc, ref = out / "base", out / "increment", out / "reference"
    if not _done(out):
        from loader.demo.generate import generate_player_matches

        fresh(out)
        generate_player_matches(out / "gen", "Demo Chief", OWNER_XUID, n + increment, seed, film_share=film_share,
                                with_reference=True)
        (out / "gen" / "reference").rename(ref)
        folder = out / "gen" / "players" / "Demo Chief"
        starts = []
        for path in folder.glob("*.json"):
            name = path.name
            if name.startswith(("skill_", "history_", "career_rank_")) or name.endswith(".highlights.json"):
                continue
            doc = json.loads(path.read_bytes())
            starts.append((doc["MatchInfo"]["StartTime"], doc["MatchId"]))
        starts.sort()
        newest = {match_id for _, match_id in starts[len(starts) - increment:]}
        base.mkdir()
        inc.mkdir()
        for path in folder.iterdir():
            hit = next((m for m in newest if m in path.name), None) if "-" in path.name else None
            path.rename((inc if hit else base) / path.name)
        shutil.rmtree(out / "gen")
        (out / ".complete").write_text("ok")
    return base, inc, ref


def many_player_files(players: int, matches: int, seed: int = 17) -> tuple[list[tuple[str, int, Path]], Path]:
    """`players` independent players with `matches` matches each (full documents), plus reference/."""
    out = bench_dir() / f"many-{players}x{matches}-s{seed}"
    if not _done(out):
        from loader.demo.generate import generate_player_matches

        fresh(out)
        for i in range(players):
            generate_player_matches(out, f"Bench Player {i:03d}", OWNER_XUID + 1000 + i, matches, seed + i,
                                    film_share=0.1, with_reference=(i == 0))
        (out / ".complete").write_text("ok")
    listing = [(f"Bench Player {i:03d}", OWNER_XUID + 1000 + i, out / "players" / f"Bench Player {i:03d}")
               for i in range(players)]
    return listing, out / "reference"


# ---------------------------------------------------------------- reporting


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def fmt_mib(n: int) -> str:
    return f"{n / MiB:,.0f} MiB"


def machine() -> str:
    import platform

    import duckdb

    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / GiB:.0f} GiB RAM"
    except ImportError:
        mem = "? RAM"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {mem}, "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}")
