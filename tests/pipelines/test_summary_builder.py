"""TFMA metric keys to the summary contract, without running TFX."""

from __future__ import annotations

import math

from pipelines.summary_builder import MetricValue, build_summary, slice_metrics
from retrain.spec import load_spec
from retrain.summary import ModelRef, RunInfo, dump_summary, parse_summary
from tests.conftest import REPO

OVERALL: tuple[tuple[str, str], ...] = ()
DE = (("country", "DE"),)


def value(slice_: tuple[tuple[str, str], ...], name: str, model: str, v: float) -> MetricValue:
    return MetricValue(slice=slice_, name=name, model_name=model, is_diff=False, value=v)


def test_pairs_candidate_and_baseline_and_drops_diffs_and_unrequested_metrics() -> None:
    rows = slice_metrics(
        [
            value(OVERALL, "auc", "candidate", 0.91),
            value(OVERALL, "auc", "baseline", 0.89),
            MetricValue(OVERALL, "auc", "candidate", True, 0.02),
            value(OVERALL, "binary_accuracy", "candidate", 0.85),
            value(OVERALL, "example_count", "candidate", 800),
            value(OVERALL, "loss", "candidate", 0.3),
            value(DE, "auc", "candidate", float("inf")),
            value(DE, "example_count", "candidate", 120),
        ],
        ["auc", "accuracy"],
    )
    assert [(r.slice, r.metric, r.candidate, r.baseline, r.example_count) for r in rows[:2]] == [
        ({}, "auc", 0.91, 0.89, 800),
        ({}, "accuracy", 0.85, None, 800),
    ]
    (de,) = rows[2:]
    assert de.slice == {"country": "DE"} and de.example_count == 120
    assert de.candidate is not None and math.isnan(de.candidate)


def test_summary_round_trips_through_json_with_nan() -> None:
    spec = load_spec(REPO / "specs" / "churn.yaml")
    run = RunInfo(
        run_id="r1", orchestrator="local", trigger="manual", pipeline_root="/p", finished_at="t"
    )
    summary = build_summary(
        spec,
        run,
        [value(OVERALL, "auc", "candidate", float("nan"))],
        blessed=False,
        validation_failures=["overall: auc: below 0.75"],
        candidate=ModelRef(uri="/m/1"),
        baseline=None,
        anomalies=[],
        example_counts={"train": 10, "eval": 2},
    )
    again = parse_summary(dump_summary(summary), "test")
    assert again.spec_version == spec.fingerprint()
    assert [t.metric for t in again.thresholds] == ["auc", "accuracy"]
    overall = again.overall("auc")
    assert overall is not None and overall.candidate is not None and math.isnan(overall.candidate)
