"""How sure a verdict is, in words: the change's interval, better / worse / within noise, and
whether the eval set is large enough for the interval to mean much.

Pure, like the rest of the report: the comparison carries the intervals (TFMA's bootstrap,
drawn at the spec's level when the summary was written) and this module only words them.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from retrain.compare.model import Bounds, Change, Comparison, MetricRow
from retrain.report.numbers import fmt, signed

WORDS: dict[Change, str] = {
    "better": "better than production",
    "worse": "worse than production",
    "within_noise": "within noise",
}
# The eval set is too small when, at the stated level, the interval of a rate (accuracy,
# precision, ...) can be wider than this on either side: its worst case, at a rate of 0.5, is
# z * sqrt(0.25 / n). 385 rows reach it at 95%; 31 rows leave it at +/-0.18.
RATE_HALF_WIDTH = 0.05


def level_text(level: float | None) -> str:
    return f"{level:.0%}" if level else ""


def interval_text(bounds: Bounds | None, scale: float | None, sign: bool = False) -> str:
    """`[low, high]` in the value's own decimals; empty without an interval."""
    if bounds is None:
        return ""
    show = signed if sign else fmt
    return f"[{show(bounds[0], scale)}, {show(bounds[1], scale)}]"


def change_words(row: MetricRow, level: float | None) -> str:
    """`+0.0017, 95% CI [-0.0100, +0.0134], within noise` for one row's change."""
    if row.delta is None:
        return ""
    text = signed(row.delta, row.candidate)
    if row.change is None or row.change_interval is None:
        return text
    bounds = interval_text(row.change_interval, row.candidate, sign=True)
    return f"{text}, {level_text(level)} CI {bounds}, {WORDS[row.change]}"


def verdict_words(c: Comparison) -> str:
    """The run's change in the headline's first words, e.g. `within noise`."""
    return WORDS[c.change] if c.change is not None else ""


def rows_needed(level: float) -> int:
    """Eval rows for a rate's interval at `level` to be at most RATE_HALF_WIDTH either side."""
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    return math.ceil((z / (2 * RATE_HALF_WIDTH)) ** 2)


def worst_half_width(level: float, rows: int) -> float:
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    return z * math.sqrt(0.25 / rows)


def small_eval_warning(c: Comparison, default_level: float = 0.95) -> str:
    """A warning naming the row count when the eval set is too small for the stated interval;
    empty otherwise. Without intervals (older summaries) the spec's default level is assumed."""
    level = c.level or default_level
    rows = c.eval_rows
    if rows is None or rows <= 0 or rows >= rows_needed(level):
        return ""
    width = worst_half_width(level, rows)
    bootstrap = (
        " The bootstrap resamples these same rows, so its intervals can look narrower than "
        "they are (a perfect score gives an interval of zero width)."
        if c.level
        else ""
    )
    return (
        f"> [!WARNING]\n> **Small eval set: {rows:,} rows.** At {level_text(level)}, a rate "
        f"such as accuracy measured on {rows:,} rows is known only to about ±{width:.2f}; "
        f"{rows_needed(level):,} rows bring that to ±{RATE_HALF_WIDTH:.2f}.{bootstrap} "
        "Add rows or raise `evaluation.eval_fraction` before trusting this verdict."
    )
