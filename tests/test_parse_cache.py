"""A `halo` process loads the manifest the last parse kept, until a file of the project changes
(loader/warehouse/dbt_runner.py, PARSE_CACHE_NAME; README, Building). Real dbt parses of a copy of the project."""

import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from loader.warehouse import dbt_runner

PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the dbt project (only its files) as the project dbt_runner parses."""
    copy = tmp_path / "project"
    for name in PROJECT_FILES:
        source, target = ROOT / name, copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
    monkeypatch.setattr(dbt_runner, "PROJECT_DIR", copy)
    return copy


def test_a_parse_is_kept_until_a_project_file_changes(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    partial = target / "partial_parse.msgpack"  # written by every dbt parse, not by loading the kept manifest
    first = dbt_runner.parse_project("player", target)
    assert (target / dbt_runner.PARSE_CACHE_NAME).exists() and partial.exists()
    partial.unlink()

    kept = dbt_runner.parse_project("player", target)
    assert not partial.exists()  # no dbt parse ran
    assert dbt_runner.manifest_fingerprint(kept) == dbt_runner.manifest_fingerprint(first)
    assert sorted(kept.nodes) == sorted(first.nodes)

    # a model's SQL changed: dbt parses again, and the manifest has the change
    model = project / "models" / "marts" / "tracked_players.sql"
    model.write_text(model.read_text() + "\n-- changed by test_parse_cache\n")
    changed = dbt_runner.parse_project("player", target)
    assert partial.exists()
    assert "-- changed by test_parse_cache" in changed.nodes["model.halo.tracked_players"].raw_code
    partial.unlink()

    # a new file below a model path is parsed too (a model no manifest had)
    (project / "models" / "marts" / "parse_cache_probe.sql").write_text("select 1 as one\n")
    added = dbt_runner.parse_project("player", target)
    assert partial.exists() and "model.halo.parse_cache_probe" in added.nodes
    partial.unlink()

    # what else a parse reads is in the digest the kept manifest is checked against: the profile (it names the
    # schemas and paths the compiled SQL uses), dbt_project.yml, the target
    digest = dbt_runner.project_digest("player")
    assert dbt_runner.project_digest("metadata") != digest
    for name in ("profiles.yml", "dbt_project.yml"):
        path = project / name
        path.write_text(path.read_text() + "\n# changed by test_parse_cache\n")
        assert dbt_runner.project_digest("player") != digest
        digest = dbt_runner.project_digest("player")
