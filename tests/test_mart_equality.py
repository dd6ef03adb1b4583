"""tests/mart_equality.py, the comparison every target's equality test uses, on hand-made rows."""

import datetime as dt
from decimal import Decimal

import pytest
from mart_equality import compare_marts


def test_equal_rows_in_any_order_and_engine_types_pass() -> None:
    ref = {"m": [{"owner_xuid": 1, "kd": 1.0 / 3.0, "at": dt.datetime(2024, 1, 1, 12), "ok": True},
                 {"owner_xuid": 1, "kd": 2.0, "at": None, "ok": False}]}
    other = {"m": [{"owner_xuid": 1, "kd": Decimal(2), "at": None, "ok": False},
                   {"owner_xuid": 1, "kd": 0.3333333333333333 * (1 + 1e-12), "ok": True,
                    "at": dt.datetime(2024, 1, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1)))}]}
    compare_marts(ref, other)


@pytest.mark.parametrize(("other", "message"), [
    ({"m": [{"a": 1, "x": 1.0 + 1e-7}]}, "x: 1.0 != 1.0000001"),
    ({"m": [{"a": 1, "x": 1.0}, {"a": 1, "x": 1.0}]}, "1 rows != 2 rows"),
    ({"m": [{"a": True, "x": 1.0}]}, "a: 1 != True"),
    ({"m": [{"a": 1, "y": 1.0}]}, "columns differ: missing ['x'], extra ['y']"),
    ({}, "m: missing from the other side"),
])
def test_a_difference_names_the_mart_and_the_column(other: dict, message: str) -> None:
    with pytest.raises(AssertionError) as failure:
        compare_marts({"m": [{"a": 1, "x": 1.0}]}, other)
    assert message in str(failure.value)


def test_loaded_at_and_is_owner_are_left_out() -> None:
    compare_marts({"m": [{"a": 1, "loaded_at": 1, "is_owner": True}]},
                  {"m": [{"a": 1, "loaded_at": 2, "is_owner": False}]})


def test_a_filled_column_may_fill_a_null_but_never_change_a_value() -> None:
    ref = {"m": [{"a": 1, "gamertag": None}, {"a": 2, "gamertag": "x"}]}
    compare_marts(ref, {"m": [{"a": 1, "gamertag": "y"}, {"a": 2, "gamertag": "x"}]}, filled=frozenset({"gamertag"}))
    with pytest.raises(AssertionError, match="gamertag: 'x' != 'z'"):
        compare_marts(ref, {"m": [{"a": 1, "gamertag": None}, {"a": 2, "gamertag": "z"}]},
                      filled=frozenset({"gamertag"}))
    with pytest.raises(AssertionError, match="gamertag: None != 'y'"):
        compare_marts(ref, {"m": [{"a": 1, "gamertag": "y"}, {"a": 2, "gamertag": "x"}]})
