"""Compare a candidate's evaluation summary with its baseline: pure, no I/O.

The candidate's values come from its summary. The baseline's come from the same summary
(TFX evaluated both models on the same data) or, when given, from an older run's summary,
whose candidate is today's baseline. Thresholds come from the summary (what the pipeline
applied) or from a spec; the direction of each metric always comes from retrain.metrics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from retrain.compare.model import (
    OVERALL,
    TOLERANCE,
    Bounds,
    Check,
    Comparison,
    MetricRow,
    Note,
    SliceKey,
)
from retrain.metrics import METRICS
from retrain.summary import EvaluationSummary, Interval, SliceMetric, Threshold

_Values = dict[tuple[SliceKey, str], tuple[float | None, int | None]]
_Intervals = dict[tuple[SliceKey, str], tuple[Bounds | None, Bounds | None, Bounds | None]]


def slice_key(raw: dict[str, str]) -> SliceKey:
    return tuple(sorted(raw.items()))


def _clean(value: float | None) -> float | None:
    """NaN and infinities carry no comparison; callers note them as missing."""
    if value is None or not math.isfinite(value):
        return None
    return value


def _is_nan(value: float | None) -> bool:
    return value is not None and not math.isfinite(value)


def _values(metrics: Iterable[SliceMetric], side: str) -> _Values:
    values: _Values = {}
    for m in metrics:
        raw = m.candidate if side == "candidate" else m.baseline
        values[(slice_key(m.slice), m.metric)] = (raw, m.example_count)
    return values


def _bounds(interval: Interval | None) -> Bounds | None:
    if interval is None or not (math.isfinite(interval.low) and math.isfinite(interval.high)):
        return None
    return (interval.low, interval.high)


def _intervals(candidate: EvaluationSummary, own_baseline: bool) -> _Intervals:
    """Candidate, baseline and change intervals per (slice, metric). With another run's summary
    as the baseline, only the candidate's: that comparison was not bootstrapped together."""
    return {
        (slice_key(m.slice), m.metric): (
            _bounds(m.candidate_interval),
            _bounds(m.baseline_interval) if own_baseline else None,
            _bounds(m.change_interval) if own_baseline else None,
        )
        for m in candidate.metrics
    }


def _direction(metric: str, threshold: Threshold | None, notes: list[Note]) -> bool:
    info = METRICS.get(metric)
    if info is None:
        notes.append(Note("unknown_metric", metric))
        return True if threshold is None else threshold.higher_is_better
    if threshold is not None and threshold.higher_is_better != info.higher_is_better:
        notes.append(Note("direction_mismatch", metric))
    return info.higher_is_better


def _checks(
    candidate: float | None, baseline: float | None, higher: bool, t: Threshold | None
) -> tuple[Check, ...]:
    if t is None:
        return ()
    checks: list[Check] = []
    if t.min is not None:
        ok = None if candidate is None else candidate >= t.min - TOLERANCE
        checks.append(Check("min", t.min, False if ok is None else ok, candidate))
    if t.max is not None:
        ok = None if candidate is None else candidate <= t.max + TOLERANCE
        checks.append(Check("max", t.max, False if ok is None else ok, candidate))
    if t.max_regression is not None:
        if candidate is None:
            checks.append(Check("max_regression", t.max_regression, False))
        elif baseline is None:
            checks.append(Check("max_regression", t.max_regression, None))
        else:
            regression = (baseline - candidate) if higher else (candidate - baseline)
            ok = regression <= t.max_regression + TOLERANCE
            checks.append(Check("max_regression", t.max_regression, ok, regression))
    return tuple(checks)


def compare(
    candidate: EvaluationSummary,
    baseline: EvaluationSummary | None = None,
    thresholds: Sequence[Threshold] | None = None,
) -> Comparison:
    """Compare per metric, overall and per slice. Only overall rows decide the verdict."""
    notes: list[Note] = []
    by_metric = {t.metric: t for t in (candidate.thresholds if thresholds is None else thresholds)}
    cand = _values(candidate.metrics, "candidate")
    if baseline is None:
        base = _values(candidate.metrics, "baseline")
        has_baseline = candidate.baseline is not None or any(
            v is not None for v, _ in base.values()
        )
    else:
        base = _values(baseline.metrics, "candidate")
        has_baseline = True
        notes.append(Note("blessing_other_baseline"))

    metric_order: list[str] = list(by_metric)
    for _, metric in [*cand, *base]:
        if metric not in metric_order:
            metric_order.append(metric)
    directions = {m: _direction(m, by_metric.get(m), notes) for m in metric_order}
    intervals = _intervals(candidate, own_baseline=baseline is None)
    no_interval: tuple[Bounds | None, Bounds | None, Bounds | None] = (None, None, None)

    overall: list[MetricRow] = []
    for metric in metric_order:
        c_raw, count = cand.get((OVERALL, metric), (None, None))
        b_raw, _ = base.get((OVERALL, metric), (None, None))
        threshold = by_metric.get(metric)
        if _is_nan(c_raw):
            notes.append(Note("candidate_nan", metric))
        elif c_raw is None:
            notes.append(Note("candidate_missing", metric))
        if _is_nan(b_raw):
            notes.append(Note("baseline_nan", metric))
        elif b_raw is None and has_baseline:
            notes.append(Note("baseline_missing", metric))
        c, b = _clean(c_raw), _clean(b_raw)
        overall.append(
            MetricRow(
                metric,
                OVERALL,
                directions[metric],
                c,
                b,
                count,
                _checks(c, b, directions[metric], threshold),
                *intervals.get((OVERALL, metric), no_interval),
            )
        )

    slices: list[MetricRow] = []
    keys = sorted(
        {k for k in [*cand, *base] if k[0] != OVERALL},
        key=lambda k: (len(k[0]), k[0], metric_order.index(k[1])),
    )
    for key in keys:
        skey, metric = key
        c_raw, count = cand.get(key, (None, None))
        b_raw, _ = base.get(key, (None, None))
        c, b = _clean(c_raw), _clean(b_raw)
        baseline_has_metric = base.get((OVERALL, metric), (None, None))[0] is not None
        if c_raw is not None and b_raw is None and has_baseline and baseline_has_metric:
            notes.append(Note("slice_only_candidate", metric, skey))
        elif c_raw is None and b_raw is not None:
            notes.append(Note("slice_only_baseline", metric, skey))
        slices.append(
            MetricRow(
                metric,
                skey,
                directions[metric],
                c,
                b,
                count,
                _checks(c, b, directions[metric], by_metric.get(metric)),
                *intervals.get(key, no_interval),
            )
        )

    return Comparison(
        spec=candidate.spec,
        overall=tuple(overall),
        slices=tuple(slices),
        has_baseline=has_baseline,
        blessed=candidate.blessed,
        validation_failures=tuple(candidate.validation_failures),
        notes=tuple(_dedupe(notes)),
        slices_gate=candidate.slices_gate,
        within_noise=candidate.within_noise,
        level=candidate.confidence.level if candidate.confidence is not None else None,
        eval_rows=_eval_rows(candidate),
    )


def _eval_rows(summary: EvaluationSummary) -> int | None:
    if "eval" in summary.example_counts:
        return summary.example_counts["eval"]
    return next((m.example_count for m in summary.metrics if not m.slice), None)


def _dedupe(notes: list[Note]) -> list[Note]:
    seen: set[Note] = set()
    out = []
    for note in notes:
        if note not in seen:
            seen.add(note)
            out.append(note)
    return out
