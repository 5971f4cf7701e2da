from __future__ import annotations

import pytest

from retrain.spec.cron import cron_problem


@pytest.mark.parametrize(
    "expression",
    ["0 5 * * 1", "*/15 * * * *", "0 0 1 jan-mar mon,wed", "30 2 * * 7", "0 0 1-15/2 * *"],
)
def test_valid(expression: str) -> None:
    assert cron_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("60 * * * *", "minute field '60': 60 is outside 0-59"),
        ("* * 0 * *", "day of month field '0': 0 is outside 1-31"),
        ("* * * foo *", "month field 'foo': 'foo' is not a month"),
        ("*/0 * * * *", "minute field '*/0' has a zero step"),
        ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("? * * * *", "minute field '?' is not a number, range, list or step"),
    ],
)
def test_invalid(expression: str, problem: str) -> None:
    assert cron_problem(expression) == problem
