"""What a comparison found, as plain values: the renderer and the CLI read these.

Names (metrics, slice keys and values) stay raw here; escaping is the renderer's job, so
notes are structured rather than pre-written sentences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["pass", "fail", "no-baseline"]
# Against production, at the summary's confidence level: the change's interval lies wholly on
# the better side of no change, wholly on the worse side, or covers it.
Change = Literal["better", "worse", "within_noise"]
WithinNoise = Literal["hold", "promote"]
Bounds = tuple[float, float]
CheckKind = Literal["min", "max", "max_regression"]
NoteKind = Literal[
    "candidate_missing",  # a thresholded metric has no candidate value
    "candidate_nan",
    "baseline_missing",  # a baseline exists but lacks this metric
    "baseline_nan",
    "slice_only_candidate",
    "slice_only_baseline",
    "direction_mismatch",  # the summary's higher_is_better contradicts retrain.metrics
    "unknown_metric",  # not in retrain.metrics; direction taken from the summary
    "blessing_other_baseline",  # TFX blessed against its own baseline, not the one given
]
SliceKey = tuple[tuple[str, str], ...]
OVERALL: SliceKey = ()

# Float noise tolerance: 0.80 - 0.78 is 0.020000000000000018, which must not fail <= 0.02.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Check:
    """One threshold applied to one value. `passed` is None when it could not be evaluated."""

    kind: CheckKind
    limit: float
    passed: bool | None
    observed: float | None = None  # the candidate value, or the regression for max_regression


@dataclass(frozen=True)
class MetricRow:
    metric: str
    slice: SliceKey
    higher_is_better: bool
    candidate: float | None
    baseline: float | None
    example_count: int | None = None
    checks: tuple[Check, ...] = ()
    candidate_interval: Bounds | None = None
    baseline_interval: Bounds | None = None
    change_interval: Bounds | None = None  # of candidate - baseline

    @property
    def change(self) -> Change | None:
        """Better, worse or within noise against the baseline; None without an interval."""
        if self.change_interval is None or self.delta is None:
            return None
        low, high = self.change_interval
        gain_low, gain_high = (low, high) if self.higher_is_better else (-high, -low)
        if gain_low > TOLERANCE:
            return "better"
        if gain_high < -TOLERANCE:
            return "worse"
        return "within_noise"

    @property
    def delta(self) -> float | None:
        if self.candidate is None or self.baseline is None:
            return None
        return self.candidate - self.baseline

    @property
    def regression(self) -> float | None:
        """How much worse than the baseline, in metric units: positive is worse."""
        delta = self.delta
        if delta is None:
            return None
        return -delta if self.higher_is_better else delta

    @property
    def verdict(self) -> Verdict:
        if any(c.passed is False for c in self.checks):
            return "fail"
        if any(c.passed is None for c in self.checks):
            return "no-baseline"
        return "pass"

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.passed is False)


@dataclass(frozen=True)
class Note:
    kind: NoteKind
    metric: str = ""
    slice: SliceKey = OVERALL


@dataclass(frozen=True)
class Comparison:
    """Candidate against baseline. Only overall rows gate the verdict, as in TFX's Evaluator."""

    spec: str
    overall: tuple[MetricRow, ...]
    slices: tuple[MetricRow, ...]
    has_baseline: bool
    blessed: bool
    validation_failures: tuple[str, ...] = ()
    notes: tuple[Note, ...] = field(default=())
    slices_gate: bool = False  # a failing slice fails the verdict (the spec's setting)
    within_noise: WithinNoise = "hold"  # how a change within noise is treated for promotion
    level: float | None = None  # the intervals' confidence level; None: no intervals
    eval_rows: int | None = None  # rows in the eval set

    @property
    def verdict(self) -> Verdict:
        verdicts = {row.verdict for row in self.overall}
        if "fail" in verdicts or (self.slices_gate and self.failing_slices):
            return "fail"
        if "no-baseline" in verdicts or not self.has_baseline:
            return "no-baseline"
        return "pass"

    @property
    def failing(self) -> tuple[MetricRow, ...]:
        return tuple(row for row in self.overall if row.verdict == "fail")

    @property
    def failing_slices(self) -> tuple[MetricRow, ...]:
        """Slices that fail a threshold (with a value): they gate only with `slices_gate`."""
        return tuple(r for r in self.slices if r.verdict == "fail" and r.candidate is not None)

    @property
    def change_rows(self) -> tuple[MetricRow, ...]:
        """The gated metrics whose change against the baseline has an interval."""
        return tuple(r for r in self.overall if r.checks and r.change is not None)

    @property
    def change(self) -> Change | None:
        """The run's change against the baseline: worse if any gated metric is significantly
        worse, better if one is significantly better and none worse, else within noise."""
        changes = {r.change for r in self.change_rows}
        if not changes:
            return None
        if "worse" in changes:
            return "worse"
        return "better" if "better" in changes else "within_noise"

    @property
    def promotion_hold(self) -> str:
        """Why a blessed candidate is not promoted on its figures; empty when it may be."""
        change, level = self.change, f"{self.level:.0%}" if self.level else ""
        if change == "worse":
            return f"it is worse than production beyond noise (at {level})"
        if change == "within_noise" and self.within_noise == "hold":
            return (
                f"its change against production is within noise (at {level}), and the spec's "
                "evaluation.within_noise is hold"
            )
        return ""

    @property
    def agrees_with_tfx(self) -> bool:
        """TFX blesses a first run that meets its bounds, so no-baseline counts as approval."""
        return (self.verdict != "fail") == self.blessed

    def worst_slices(self, metric: str, limit: int | None = None) -> tuple[MetricRow, ...]:
        """Slices where `metric` got worse, worst first; with no baseline, the weakest first."""
        scored = []
        for row in self.slices:
            if row.metric != metric or row.candidate is None:
                continue
            if row.regression is not None:
                score = row.regression
                if score <= TOLERANCE and not row.failed_checks:
                    continue
            elif self.has_baseline and not row.failed_checks:
                continue
            else:
                score = -row.candidate if row.higher_is_better else row.candidate
            scored.append((score, row))
        scored.sort(key=lambda pair: -pair[0])
        rows = tuple(row for _, row in scored)
        return rows if limit is None else rows[:limit]
