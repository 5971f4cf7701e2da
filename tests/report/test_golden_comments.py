"""The PR comment for each comparison case, pinned as a golden markdown file.

Regenerate after an intended change with RETRAIN_UPDATE_GOLDEN=1, then read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrain.compare import compare
from retrain.report import (
    HistoryPoint,
    Report,
    comment_marker,
    links_for,
    render_comparison,
    render_unfinished,
    render_unreadable,
)
from retrain.runs import RunOutcome
from tests.fakes.summaries import load

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "comments"
CONSOLE = "https://console.cloud.google.com/vertex-ai/pipelines/locations/europe-west4/runs/x"


def _check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.md"
    if os.environ.get("RETRAIN_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with RETRAIN_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def _history(metrics: dict[str, list[float]]) -> list[HistoryPoint]:
    length = len(next(iter(metrics.values())))
    return [
        HistoryPoint(
            run_id=f"run-{i}",
            finished_at=f"2026-11-{10 + i:02d}T05:40:00Z",
            trigger="data_arrival",
            blessed=True,
            metrics={m: values[i] for m, values in metrics.items()},
        )
        for i in range(length)
    ]


CASES = {
    # case: (fixture, console url, history)
    "pass": ("churn_pass", CONSOLE, {"auc": [0.8210, 0.8290, 0.8331, 0.8412]}),
    "fail_regression": (
        "churn_regression",
        CONSOLE,
        {"auc": [0.8290, 0.8331, 0.8412, 0.8020], "accuracy": [0.78, 0.785, 0.7925, 0.7612]},
    ),
    "first_run": ("churn_first_run", "", {"auc": [0.8190]}),
    "one_sided": ("churn_one_sided", CONSOLE, {"auc": [0.8331, 0.8350]}),
    "nan": ("churn_nan", CONSOLE, {"auc": [0.8331, 0.8412]}),
    "disagree_blessed_but_fails": ("churn_disagree", CONSOLE, {"auc": [0.8412, 0.8150]}),
    "regression_task": ("house_prices_pass", CONSOLE, {"rmse": [66.0, 63.9, 61.25]}),
    "multiclass": ("penguins_multiclass", CONSOLE, {"macro_f1": [0.9501, 0.9612]}),
    "hostile_names": ("hostile", "javascript:alert(1)", {"auc": [0.79, 0.80]}),
    # version 3: the baseline is production's version, or none with the reason
    "production_baseline": ("churn_production", CONSOLE, {"auc": [0.8331, 0.8412]}),
    "no_baseline_reason": ("churn_no_baseline", "", {"auc": [0.8190]}),
    # version 4: confidence intervals, three outcomes, what the PR changed, slices gate,
    # confusion matrices, small eval sets
    "within_noise": ("churn_within_noise", CONSOLE, {"auc": [0.9364, 0.9381]}),
    "significant_improvement": ("churn_better", CONSOLE, {"auc": [0.8331, 0.8412, 0.8652]}),
    "significant_regression": ("churn_worse", CONSOLE, {"auc": [0.8331, 0.8412, 0.8062]}),
    "slice_regressed_gate_off": ("churn_slice_regressed", CONSOLE, {"auc": [0.9364, 0.9381]}),
    "slice_regressed_gate_on": ("churn_slice_gate", CONSOLE, {"auc": [0.9364, 0.9381]}),
    "multiclass_confusion": ("penguins_confusion", CONSOLE, {"macro_f1": [0.9612, 0.9783]}),
    "small_eval_set": ("wine_small", CONSOLE, {"accuracy": [1.0]}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_comparison_comment(case: str) -> None:
    fixture, console, history = CASES[case]
    summary = load(fixture)
    pr = summary.run.pr_number or 101
    report = Report(
        comparison=compare(summary),
        summary=summary,
        links=links_for(summary, console),
        marker=comment_marker(summary.spec, pr),
        history=_history(history),
    )
    _check(case, render_comparison(report))


def _outcome(**changes: object) -> RunOutcome:
    base = RunOutcome(
        job_id="churn-7c0d1e2f3a4b-pr-42-5d1e0a7",
        spec="churn",
        state="failed",
        trigger="pull_request",
        git_sha="5d1e0a7c2b9f8e6d4c3b2a1908f7e6d5c4b3a291",
        pr_number=42,
        pipeline_root="gs://acme-retrain/pipeline_root/churn",
        failed_task="trainer",
        error="ValueError: Tensor shapes (64, 5) and (64, 6) are incompatible\n  at run_fn",
        console_url=CONSOLE,
    )
    return base.model_copy(update=changes)


def test_failed_run_comment() -> None:
    _check("run_failed", render_unfinished(_outcome(), comment_marker("churn", 42)))


def test_cancelled_run_comment() -> None:
    outcome = _outcome(state="cancelled", failed_task="", error="", console_url="")
    _check("run_cancelled", render_unfinished(outcome, comment_marker("churn", 42)))


def test_unreadable_summary_comment() -> None:
    outcome = _outcome(state="succeeded", failed_task="", error="")
    problem = "gs://acme-retrain/.../evaluation_summary.json: cannot read: not found"
    _check("summary_unreadable", render_unreadable(outcome, problem, comment_marker("churn", 42)))
