"""Shared test fixtures: the real API samples vendored in tests/fixtures (see its README for their provenance)."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
RESPONSES = FIXTURES / "halo-api" / "responses"
FILM = FIXTURES / "halo-api" / "film"
REFERENCE = FIXTURES / "reference"
OWNER_XUID = 2533274900000017
OWNER_ID = f"xuid({OWNER_XUID})"
MATCH_STATS_FILES = sorted(RESPONSES.glob("get_match_stats*.json")) + [FILM / "match_stats.json"]


def read_json(path: Path) -> dict:
    """Independent reading of a fixture for expected values (plain json, not the loader)."""
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HALO_DATA_DIR for one test."""
    root = tmp_path / "data"
    monkeypatch.setenv("HALO_DATA_DIR", str(root))
    return root
