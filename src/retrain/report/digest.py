"""A run's evaluation summary as plain text for the terminal (`retrain run --local`).

Pure. Metrics are named as the spec names them (the summary holds spec names), and each
threshold of the spec's `evaluation.metrics` is said in words with its outcome, from the same
comparison the PR comment uses; TFMA's own failure records (its metric names, its JSON) stay
in the summary file.
"""

from __future__ import annotations

from retrain.anomalies import classify
from retrain.compare.core import compare
from retrain.compare.model import Check, MetricRow
from retrain.summary import EvaluationSummary


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _limit(value: float) -> str:
    return f"{value:g}"


def _threshold(row: MetricRow, check: Check) -> str:
    if check.kind == "min":
        rule = f"{row.metric} at least {_limit(check.limit)}"
    elif check.kind == "max":
        rule = f"{row.metric} at most {_limit(check.limit)}"
    else:
        worse = "below" if row.higher_is_better else "above"
        rule = f"{row.metric} at most {_limit(check.limit)} {worse} production"
    if check.passed is None:
        return f"{rule}: not checked (no production model to compare with)"
    seen = f"{'fell by' if check.kind == 'max_regression' else 'is'} {_fmt(check.observed)}"
    if check.kind == "max_regression" and check.observed is not None and check.observed < 0:
        seen = f"improved by {_fmt(-check.observed)}"
    if check.observed is None:
        seen = "no value"
    return f"{rule}: {'passed' if check.passed else 'FAILED'} ({seen})"


def describe(summary: EvaluationSummary, summary_file: str = "") -> str:
    """Verdict, metrics per slice, each threshold in words, then anomalies."""
    verdict = "BLESSED" if summary.blessed else "NOT BLESSED"
    if summary.baseline is not None:
        baseline = f"vs production {summary.baseline.version or summary.baseline.uri}"
    else:
        note = summary.lineage.baseline_note if summary.lineage else ""
        baseline = f"no baseline: {note}" if note else "no baseline"
    lines = [f"{summary.spec} run {summary.run.run_id}: {verdict} ({baseline})"]
    lines.append(f"  {'metric':<16} {'slice':<24} {'candidate':>10} {'baseline':>10}")
    for row in summary.metrics:
        where = ", ".join(f"{k}={v}" for k, v in row.slice.items()) or "overall"
        lines.append(
            f"  {row.metric:<16} {where:<24} {_fmt(row.candidate):>10} {_fmt(row.baseline):>10}"
        )
    comparison = compare(summary)
    checks = [(row, check) for row in comparison.overall for check in row.checks]
    if checks:
        lines.append("  thresholds (the spec's evaluation.metrics, on the whole eval set):")
        lines += [f"    {_threshold(row, check)}" for row, check in checks]
    failed = any(check.passed is False for _, check in checks)
    if not summary.blessed and not failed:
        where = f" ({summary_file})" if summary_file else ""
        lines.append(
            "  TFX's Evaluator did not bless it although the thresholds above pass: its reasons "
            f"are the summary's validation_failures{where}"
        )
    for finding in classify(summary):
        lines.append(f"  anomaly ({finding.level}): {finding.feature}: {finding.why}")
    return "\n".join(lines)
