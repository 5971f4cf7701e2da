"""Better, worse or within noise: what the change's interval says against production, how the
spec treats within noise for promotion, and slices that gate when the spec says so."""

from __future__ import annotations

import pytest

from retrain.compare import compare
from retrain.completion.decide import after_success
from retrain.runs import RunOutcome
from retrain.summary import EvaluationSummary, Interval, SliceMetric
from tests.fakes.summaries import load


def _change(summary: EvaluationSummary, metric: str, low: float, high: float) -> EvaluationSummary:
    rows = [
        m.model_copy(update={"change_interval": Interval(low=low, high=high)})
        if m.metric == metric and not m.slice
        else m
        for m in summary.metrics
    ]
    return summary.model_copy(update={"metrics": rows})


@pytest.mark.parametrize(
    ("low", "high", "change"),
    [
        (0.004, 0.03, "better"),
        (-0.03, -0.004, "worse"),
        (-0.01, 0.013, "within_noise"),
        (0.0, 0.02, "within_noise"),  # an interval that touches no change does not clear it
    ],
)
def test_the_change_interval_decides_the_outcome(low: float, high: float, change: str) -> None:
    summary = _change(load("churn_within_noise"), "auc", low, high)
    summary = _change(summary, "accuracy", -0.01, 0.01)
    row = compare(summary).overall[0]
    assert (row.metric, row.change) == ("auc", change)


def test_lower_is_better_metrics_read_the_interval_the_other_way() -> None:
    summary = load("house_prices_pass")
    rows = [
        m.model_copy(update={"change_interval": Interval(low=-4.0, high=-1.0)})
        if not m.slice
        else m
        for m in summary.metrics
    ]
    result = compare(summary.model_copy(update={"metrics": rows}))
    assert {r.change for r in result.change_rows} == {"better"}  # rmse fell: better


def test_run_outcome_worse_wins_then_better_then_noise() -> None:
    noise = load("churn_within_noise")
    assert compare(noise).change == "within_noise"
    one_better = _change(noise, "auc", 0.002, 0.02)
    assert compare(one_better).change == "better"
    worse = _change(one_better, "accuracy", -0.03, -0.001)
    assert compare(worse).change == "worse"
    assert compare(load("churn_better")).change == "better"
    assert compare(load("churn_worse")).change == "worse"


def test_no_interval_no_outcome_as_before() -> None:
    result = compare(load("churn_production"))  # version 3: no intervals
    assert result.change is None and result.level is None
    assert result.promotion_hold == ""


def test_within_noise_is_held_unless_the_spec_says_promote() -> None:
    noise = load("churn_within_noise")
    assert "within noise (at 95%)" in compare(noise).promotion_hold
    assert "evaluation.within_noise is hold" in compare(noise).promotion_hold
    promoting = noise.model_copy(update={"within_noise": "promote"})
    assert compare(promoting).promotion_hold == ""
    assert compare(load("churn_better")).promotion_hold == ""
    worse = compare(load("churn_worse").model_copy(update={"within_noise": "promote"}))
    assert "worse than production beyond noise" in worse.promotion_hold


def test_another_runs_summary_as_baseline_gives_no_change_interval() -> None:
    result = compare(load("churn_within_noise"), baseline=load("churn_better"))
    assert result.change is None
    assert all(r.change_interval is None for r in result.overall)


def test_a_failing_slice_fails_the_verdict_only_with_slices_gate() -> None:
    off = compare(load("churn_slice_regressed"))
    assert off.verdict == "pass" and [s.slice for s in off.failing_slices] == [(("country", "DE"),)]
    on = compare(load("churn_slice_gate"))
    assert on.slices_gate and on.verdict == "fail"
    assert on.agrees_with_tfx  # TFX gated the slice too: not blessed
    summary = load("churn_slice_gate")
    healed = [
        m if m.slice != {"country": "DE"} else SliceMetric(**{**m.model_dump(), "candidate": 0.93})
        for m in summary.metrics
    ]
    assert compare(summary.model_copy(update={"metrics": healed})).verdict == "pass"


def test_eval_rows_come_from_the_eval_split() -> None:
    assert compare(load("wine_small")).eval_rows == 31


def _production_outcome(summary: EvaluationSummary) -> RunOutcome:
    return RunOutcome(
        job_id=summary.run.run_id,
        spec=summary.spec,
        state="succeeded",
        trigger="data_arrival",
        pipeline_root=summary.run.pipeline_root,
        production=True,
    )


@pytest.mark.parametrize(
    ("fixture", "within_noise", "action"),
    [
        ("churn_better", "hold", "promoted"),
        ("churn_within_noise", "hold", "skipped"),
        ("churn_within_noise", "promote", "promoted"),
        ("churn_production", "hold", "promoted"),  # version 3: no intervals, as before
    ],
)
def test_a_blessed_production_run_within_noise_is_promoted_only_if_the_spec_says(
    fixture: str, within_noise: str, action: str
) -> None:
    summary = load(fixture).model_copy(
        update={"blessed": True, "within_noise": within_noise, "run": load(fixture).run}
    )
    summary = summary.model_copy(
        update={
            "run": summary.run.model_copy(update={"trigger": "data_arrival", "pr_number": None})
        }
    )
    plan = after_success(
        _production_outcome(summary),
        summary,
        compare(summary),
        specs_dir="specs",
        base_branch="main",
    )
    assert plan.action == action
    if action == "skipped":
        assert plan.reason.startswith("not promoted: its change against production is within")
