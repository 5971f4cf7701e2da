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
_ATOM = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")


def cron_problem(expression: str) -> str | None:
    """Return why `expression` is not a valid cron schedule, or None when it is."""
    parts = expression.split()
    if len(parts) != 5:
        return f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}"
    for text, (field, low, high, names) in zip(parts, _FIELDS, strict=True):
        for item in text.lower().split(","):
            match = _ATOM.match(item)
            if not match:
                return f"{field} field {text!r} is not a number, range, list or step"
            base, step = match.groups()
            if step is not None and int(step) == 0:
                return f"{field} field {text!r} has a zero step"
            if base == "*":
                continue
            for bound in base.split("-"):
                value = names.get(bound)
                if value is None:
                    if not bound.isdigit():
                        return f"{field} field {text!r}: {bound!r} is not a {field}"
                    value = int(bound)
                if not low <= value <= high:
                    return f"{field} field {text!r}: {value} is outside {low}-{high}"
    return None
