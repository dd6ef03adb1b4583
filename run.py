#!/usr/bin/env python3
"""Bootstrap: `python3 run.py demo` sets everything up and runs the demo; `python3 run.py test` runs the tests.

Needs only Python 3.11+: it creates `.venv/` beside this file, installs the project
into it (pinned dbt-core 1.11.x, dbt-duckdb, duckdb, polars, pydantic, spnkr; pyspark and dbt-spark) and
runs the command inside it. Nothing is installed globally.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
# Checked at run time: this bootstrap runs under whatever `python3` the user has, possibly older than the project's.
MIN_PYTHON = (3, 11)


def ensure_venv() -> None:
    """Create the virtual environment and (re)install when pyproject.toml changed."""
    if sys.version_info < MIN_PYTHON:
        sys.exit(f"Python 3.11+ is needed, this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing the project and its dependencies (first run only)", flush=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test,spark]"], check=True)
    STAMP.write_text(wanted)


def ensure_debian_package(found: bool, package: str, what: str, needed_by: str) -> None:
    """Install Debian's `package` when `what` is not `found` and we can (root + apt-get); else say which tests skip."""
    if found:
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"{what} not installed and cannot be installed here (needs root and apt-get): "
              f"{needed_by} will be skipped", flush=True)
        return
    print(f"installing Debian's {package} for {needed_by}", flush=True)
    if not apt_install(package):
        print(f"could not install {package}: {needed_by} will be skipped", flush=True)


def ensure_chromium() -> None:
    """The docs-site and report tests render pages in Debian's Chromium."""
    ensure_debian_package(bool(shutil.which("chromium") or shutil.which("chromium-browser")), "chromium", "Chromium",
                          "the browser tests")


def ensure_java() -> None:
    """The Spark target's test runs Spark in the test process, on a Java 17 runtime: Debian's headless JRE."""
    ensure_debian_package(bool(shutil.which("java") or os.environ.get("JAVA_HOME")), "openjdk-17-jre-headless", "Java",
                          "the Spark target's tests")


def apt_install(package: str) -> bool:
    """apt-get install, with one `apt-get update` when the package lists are stale."""
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env, **quiet).returncode == 0:
        return True
    subprocess.run(["apt-get", "update", "-qq"], env=env, **quiet)
    return subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env, **quiet).returncode == 0


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "demo"
    rest = sys.argv[2:]
    ensure_venv()
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if command == "setup":
        ensure_java()
        return 0
    if command == "demo":
        return subprocess.run([str(BIN / "halo"), "demo", *rest], cwd=ROOT, env=env).returncode
    if command == "test":
        ensure_chromium()
        ensure_java()
        # test files run on two processes (pytest-xdist; a file's tests stay together, they share its builds), in
        # the order tests/conftest.py gives them (the slowest first), not re-sorted by how many tests they have
        workers = ["-n", str(min(2, os.cpu_count() or 1)), "--dist", "loadfile", "--no-loadscope-reorder"]
        return subprocess.run([str(BIN / "python"), "-m", "pytest", *workers, *rest], cwd=ROOT, env=env).returncode
    sys.exit(f"usage: python3 run.py [setup|demo|test] [args...]  (got {command!r})")


if __name__ == "__main__":
    sys.exit(main())
