"""A strict check of five-field cron expressions, as Cloud Scheduler and Vertex schedules read them.

Written here rather than pulled in as a dependency: the spec model must also load in the
pipeline environment, whose packages are pinned.
"""

from __future__ import annotations

import re

_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            m: i + 1
            for i, m in enumerate(
                ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            )
        },
    ),
    (
        "day of week",
        0,
        7,
        {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
    ),
)
# Numbers without leading zeros: `05` is refused rather than guessed (octal, or a typo?).
_ATOM = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")
_NUMBER = re.compile(r"^(0|[1-9][0-9]{0,2})$")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 29: leap years happen


class CronProblem(ValueError):
    """Why an expression is not a schedule we accept."""


def _value(bound: str, text: str, field: str, low: int, high: int, names: dict[str, int]) -> int:
    value = names.get(bound)
    if value is None:
        if not _NUMBER.match(bound):
            detail = "has a leading zero" if bound.isdigit() else f"is not a {field}"
            raise CronProblem(f"{field} field {text!r}: {bound!r} {detail}")
        value = int(bound)
    if not low <= value <= high:
        raise CronProblem(f"{field} field {text!r}: {value} is outside {low}-{high}")
    return value


def _expand(text: str, field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for item in text.lower().split(","):
        match = _ATOM.match(item)
        if not match:
            raise CronProblem(f"{field} field {text!r} is not a number, range, list or step")
        base, step_text = match.groups()
        step = 1
        if step_text is not None:
            if not _NUMBER.match(step_text):
                raise CronProblem(f"{field} field {text!r}: step {step_text!r} has a leading zero")
            step = int(step_text)
            if step == 0:
                raise CronProblem(f"{field} field {text!r} has a zero step")
            if step > high - low:
                raise CronProblem(
                    f"{field} field {text!r}: step {step} is larger than the field's range "
                    f"{low}-{high}"
                )
        if base == "*":
            start, end = low, high
        else:
            first, _, last = base.partition("-")
            start = _value(first, text, field, low, high, names)
            end = _value(last, text, field, low, high, names) if last else start
            if end < start:
                raise CronProblem(f"{field} field {text!r}: range {base} runs backwards")
            if step_text is not None and not last:
                end = high  # `5/15` means from 5 to the end in steps of 15
        values.update(range(start, end + 1, step))
    return values


def expand(expression: str) -> list[set[int]]:
    """The minutes, hours, days of month, months and days of week the expression names."""
    parts = expression.split()
    if len(parts) != 5:
        raise CronProblem(
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}"
        )
    fields = [
        _expand(text, field, low, high, names)
        for text, (field, low, high, names) in zip(parts, _FIELDS, strict=True)
    ]
    days, months, weekdays = fields[2], fields[3], parts[4]
    if weekdays == "*" and not any(day <= _DAYS_IN_MONTH[m - 1] for m in months for day in days):
        raise CronProblem(f"{parts[2]} {parts[3]}: no such day, so the schedule never runs")
    return fields


def cron_problem(expression: str) -> str | None:
    """Return why `expression` is not a valid cron schedule, or None when it is."""
    try:
        expand(expression)
    except CronProblem as exc:
        return str(exc)
    return None


def more_often_than_hourly(expression: str) -> bool:
    """True when the schedule fires more than once in some hour (a valid expression)."""
    return len(expand(expression)[0]) > 1
