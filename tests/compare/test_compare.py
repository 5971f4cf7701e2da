"""The comparison core: verdicts per metric and overall, and the awkward inputs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from retrain.compare import compare, thresholds_from_spec
from retrain.compare.model import Note
from retrain.spec.load import parse_spec
from retrain.summary import EvaluationSummary, SliceMetric, Threshold
from tests.fakes.summaries import load


def _with(summary: EvaluationSummary, **changes: Any) -> EvaluationSummary:
    return summary.model_copy(update=changes)


def _row(
    summary: EvaluationSummary,
    metric: str,
    candidate: float | None,
    baseline: float | None,
    **slice_: str,
) -> EvaluationSummary:
    rows = [m for m in summary.metrics if not (m.metric == metric and m.slice == slice_)]
    rows.append(SliceMetric(slice=slice_, metric=metric, candidate=candidate, baseline=baseline))
    return _with(summary, metrics=rows)


def test_pass_when_every_overall_threshold_holds() -> None:
    result = compare(load("churn_pass"))
    assert result.verdict == "pass"
    assert [r.verdict for r in result.overall] == ["pass", "pass"]
    assert result.agrees_with_tfx


def test_a_regression_beyond_the_allowance_fails() -> None:
    result = compare(load("churn_regression"))
    assert result.verdict == "fail"
    (row,) = result.failing
    assert row.metric == "auc"
    (check,) = row.failed_checks
    assert check.kind == "max_regression"
    assert check.observed is not None and math.isclose(check.observed, 0.0311)
    assert result.agrees_with_tfx  # TFX did not bless it either


def test_a_regression_exactly_at_the_allowance_passes_despite_float_noise() -> None:
    summary = _row(load("churn_pass"), "auc", 0.78, 0.80)  # 0.80 - 0.78 = 0.0200000000000000018
    assert compare(summary).verdict == "pass"
    assert compare(_row(summary, "auc", 0.7799, 0.80)).verdict == "fail"


def test_absolute_bounds_apply_without_a_baseline() -> None:
    summary = _row(load("churn_first_run"), "accuracy", 0.69, None)
    result = compare(summary)
    assert result.verdict == "fail"
    assert result.failing[0].failed_checks[0].kind == "min"


def test_first_run_has_no_baseline_and_still_agrees_with_a_blessing() -> None:
    result = compare(load("churn_first_run"))
    assert not result.has_baseline
    assert result.verdict == "no-baseline"
    assert [r.verdict for r in result.overall] == ["no-baseline", "pass"]
    assert result.agrees_with_tfx


def test_lower_is_better_for_regression_metrics() -> None:
    summary = load("house_prices_pass")
    assert compare(summary).verdict == "pass"
    worse = compare(_row(summary, "rmse", 69.0, 63.9))  # +5.1 rmse, allowance 5
    assert worse.verdict == "fail"
    assert worse.failing[0].regression is not None and worse.failing[0].regression > 5


def test_direction_comes_from_retrain_metrics_not_the_summary() -> None:
    summary = load("churn_regression")
    lying = [t.model_copy(update={"higher_is_better": False}) for t in summary.thresholds]
    result = compare(_with(summary, thresholds=lying))
    assert result.verdict == "fail"
    assert Note("direction_mismatch", "auc") in result.notes


def test_candidate_missing_a_gated_metric_fails() -> None:
    summary = load("churn_pass")
    summary = _with(summary, metrics=[m for m in summary.metrics if m.metric != "accuracy"])
    result = compare(summary)
    assert result.verdict == "fail"
    assert Note("candidate_missing", "accuracy") in result.notes


def test_baseline_missing_a_metric_leaves_its_regression_unchecked() -> None:
    result = compare(load("churn_one_sided"))
    by_metric = {r.metric: r for r in result.overall}
    assert by_metric["accuracy"].verdict == "no-baseline"
    assert result.verdict == "no-baseline"
    assert Note("baseline_missing", "accuracy") in result.notes


def test_slices_on_one_side_only_are_noted_and_do_not_gate() -> None:
    result = compare(load("churn_one_sided"))
    assert Note("slice_only_candidate", "auc", (("country", "BR"),)) in result.notes
    assert Note("slice_only_baseline", "auc", (("country", "JP"),)) in result.notes
    assert "fail" not in {r.verdict for r in result.overall}


def test_nan_candidate_fails_and_nan_baseline_counts_as_missing() -> None:
    result = compare(load("churn_nan"))
    by_metric = {r.metric: r for r in result.overall}
    assert by_metric["auc"].candidate is None and by_metric["auc"].verdict == "fail"
    assert by_metric["accuracy"].baseline is None
    assert by_metric["accuracy"].verdict == "no-baseline"
    assert {Note("candidate_nan", "auc"), Note("baseline_nan", "accuracy")} <= set(result.notes)


def test_disagreement_with_tfx_is_reported_both_ways() -> None:
    blessed_but_fails = compare(load("churn_disagree"))
    assert blessed_but_fails.verdict == "fail" and blessed_but_fails.blessed
    assert not blessed_but_fails.agrees_with_tfx
    not_blessed_but_passes = compare(_with(load("churn_pass"), blessed=False))
    assert not not_blessed_but_passes.agrees_with_tfx


def test_worst_slices_rank_by_regression_in_the_metrics_direction() -> None:
    result = compare(load("churn_regression"))
    worst = result.worst_slices("auc", 2)
    assert [dict(r.slice) for r in worst] == [{"country": "FR"}, {"contract": "monthly"}]
    rmse = compare(load("house_prices_pass")).worst_slices("rmse")
    assert [dict(r.slice) for r in rmse] == [{"city": "Lyon"}]  # Paris improved


def test_an_older_runs_summary_can_serve_as_the_baseline() -> None:
    candidate = load("churn_disagree")  # auc 0.8150
    older = load("churn_first_run")  # its candidate auc 0.8190 becomes the baseline
    result = compare(candidate, older)
    auc = next(r for r in result.overall if r.metric == "auc")
    assert auc.baseline == 0.8190 and auc.verdict == "pass"
    assert Note("blessing_other_baseline") in result.notes


def test_thresholds_from_the_spec_replace_the_summarys() -> None:
    path = Path(__file__).resolve().parents[2] / "specs" / "churn.yaml"
    spec = parse_spec(path.read_text(encoding="utf-8"), str(path))
    strict = [
        Threshold(metric="auc", higher_is_better=True, min=0.9),
        *[t for t in thresholds_from_spec(spec) if t.metric != "auc"],
    ]
    assert compare(load("churn_pass")).verdict == "pass"
    assert compare(load("churn_pass"), thresholds=strict).verdict == "fail"
    assert [t.metric for t in thresholds_from_spec(spec)] == ["auc", "accuracy"]
