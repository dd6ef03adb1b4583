"""The one settings object: every HALO_* variable read at call time, checked, and listed in the README."""

import re
from pathlib import Path

import duckdb
import pytest
from conftest import OWNER_XUID, RESPONSES, read_json

from loader.cli.main import main as halo
from loader.core.errors import SettingError
from loader.core.paths import player_db_path
from loader.core.settings import PROFILE_VARIABLES, SETTINGS, settings

ROOT = Path(__file__).resolve().parents[1]
SLAYER = RESPONSES / "get_match_stats.json"


def test_settings_are_read_when_asked_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HALO_DATA_DIR", str(tmp_path / "one"))
    assert settings.data_dir == tmp_path / "one"
    monkeypatch.setenv("HALO_DATA_DIR", str(tmp_path / "two"))
    assert settings.data_dir == tmp_path / "two"
    monkeypatch.setenv("HALO_LOAD_MEMORY_LIMIT", " 1.5GiB ")
    assert settings.load_memory_limit == "1.5GiB"
    monkeypatch.delenv("HALO_LOAD_MEMORY_LIMIT")
    assert settings.load_memory_limit == "384MB"


@pytest.mark.parametrize(("variable", "value"), [
    ("HALO_LOAD_MEMORY_LIMIT", "abc"),
    ("HALO_LOAD_MEMORY_LIMIT", "384MB'; DROP TABLE raw.match_teams; SELECT '1"),
    ("HALO_LOAD_WORKERS", "two"),
    ("HALO_BUILD_WORKERS", "0"),
    ("HALO_DBT_THREADS", "-1"),
    ("HALO_LOCK_WAIT_SECONDS", "soon"),
    ("HALO_REQUESTS_PER_SECOND", "1.5"),
])
def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    attribute = {"HALO_LOAD_MEMORY_LIMIT": "load_memory_limit", "HALO_LOAD_WORKERS": "load_workers",
                 "HALO_BUILD_WORKERS": "build_workers", "HALO_DBT_THREADS": "dbt_threads",
                 "HALO_LOCK_WAIT_SECONDS": "lock_wait_seconds", "HALO_REQUESTS_PER_SECOND": "requests_per_second"}
    with pytest.raises(SettingError, match=re.escape(f"{variable}={value!r}")):
        getattr(settings, attribute[variable])


def test_sql_in_the_memory_limit_is_a_usage_error_and_changes_nothing(
        data_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    assert halo(["load", "matches", "--player", "Spartan001", "--xuid", str(OWNER_XUID), str(SLAYER)]) == 0
    teams = len(read_json(SLAYER)["Teams"])
    capsys.readouterr()
    monkeypatch.setenv("HALO_LOAD_MEMORY_LIMIT", "384MB'; DROP TABLE raw.match_teams; SELECT '1")
    assert halo(["load", "matches", "--player", "Spartan001", str(SLAYER)]) == 2
    stderr = capsys.readouterr().err
    assert "HALO_LOAD_MEMORY_LIMIT" in stderr and "Traceback" not in stderr
    with duckdb.connect(str(player_db_path("Spartan001", data_root)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.match_teams").fetchall() == [(teams,)]


def test_a_bad_setting_on_a_first_load_creates_no_database(
        data_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("HALO_LOAD_MEMORY_LIMIT", "abc")
    assert halo(["load", "matches", "--player", "Spartan001", "--xuid", str(OWNER_XUID), str(SLAYER)]) == 2
    assert capsys.readouterr().err.count("\n") == 1  # one line
    assert not player_db_path("Spartan001", data_root).exists()


def test_every_variable_is_read_in_one_module_and_listed_in_the_readme() -> None:
    """HALO_* names appear in the code only in loader/core/settings.py (the dbt runner sets the profile's two),
    and the README's settings table lists every one of them."""
    known = {s.name for s in SETTINGS} | {s.name for s in PROFILE_VARIABLES}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in readme for name in known)
    for path in ROOT.glob("loader/**/*.py"):
        if path.name == "settings.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "os.environ.get(\"HALO_" not in text and "getenv(\"HALO_" not in text, path
        for name in re.findall(r"HALO_[A-Z_]+", text):
            assert name in known, (path, name)
