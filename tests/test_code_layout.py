"""The habits that keep the code as laid out (README, "Code layout"): ruff's rules and the import-linter
contract of the stages, both configured in pyproject.toml. They run here, so the test command fails on either."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# the folder beside the checkout and the design page in it, spelled in parts so this file does not name them
OUTSIDE_FOLDER = "/".join(("..", "shared"))
OUTSIDE_DOC = "DESIGN" + ".md"


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / args[0]), *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing() -> None:
    proc = run_tool("ruff", "check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_contracts_are_kept() -> None:
    proc = run_tool("lint-imports", "--no-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the three contracts of pyproject.toml were checked, not zero
    assert proc.stdout.count(" KEPT") == 3, proc.stdout


def test_nothing_reads_outside_the_checkout() -> None:
    """The project stands on its own: no code, test or README line reaches for a folder beside the checkout."""
    offenders = []
    for path in [*ROOT.glob("loader/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("bench/*.py"), ROOT / "README.md",
                 *ROOT.glob("models/**/*.yml"), ROOT / "dbt_project.yml", ROOT / "profiles.yml"]:
        text = path.read_text(encoding="utf-8")
        if OUTSIDE_FOLDER in text or OUTSIDE_DOC in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], offenders


def test_halo_build_does_not_import_the_validation_stack() -> None:
    """`halo build` imports its command module and the warehouse stage, not the ingest stage's pydantic models and
    Polars (loader/cli/main.py): those imports cost every build ~0.5 s that only `halo load` and the lake need."""
    probe = ("import sys, loader.cli.build; print(sorted(m for m in ('polars', 'pyarrow', 'pydantic', 'spnkr', "
             "'loader.api', 'loader.ingest') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout
