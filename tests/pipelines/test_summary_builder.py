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


def multiclass_value(
    name: str, model: str, v: float, class_id: int | None = None, macro: bool = False
) -> MetricValue:
    return MetricValue(OVERALL, name, model, False, v, class_id=class_id, macro=macro)


def test_multiclass_keys_map_to_spec_metrics_and_per_class_figures() -> None:
    spec = load_spec(REPO / "examples" / "specs" / "penguins-species.yaml")
    run = RunInfo(
        run_id="r1", orchestrator="local", trigger="manual", pipeline_root="/p", finished_at="t"
    )
    values = [
        multiclass_value("sparse_categorical_accuracy", "candidate", 0.97),
        multiclass_value("f1_score", "candidate", 0.95, macro=True),
        multiclass_value("recall", "candidate", 0.94, macro=True),
        multiclass_value("f1_score", "baseline", 0.93, macro=True),
        # Per-class values feed `per_class`, never the gated rows.
        multiclass_value("f1_score", "candidate", 0.99, class_id=0),
        multiclass_value("precision", "candidate", 0.98, class_id=0),
        multiclass_value("f1_score", "candidate", 0.80, class_id=1),
        multiclass_value("f1_score", "baseline", 0.75, class_id=1),
        multiclass_value("f1_score", "candidate", 0.5, class_id=7),  # not a spec class
        multiclass_value("precision", "candidate", 0.1),  # binary precision: not asked for
    ]
    summary = build_summary(
        spec,
        run,
        values,
        blessed=True,
        validation_failures=[],
        candidate=ModelRef(uri="/m/1"),
        baseline=None,
        anomalies=[],
        example_counts={"train": 240, "eval": 104},
    )
    assert [(m.metric, m.candidate, m.baseline) for m in summary.metrics] == [
        ("accuracy", 0.97, None),
        ("macro_f1", 0.95, 0.93),
        ("macro_recall", 0.94, None),
    ]
    assert [(c.class_name, c.metric, c.candidate, c.baseline) for c in summary.per_class] == [
        ("Adelie", "precision", 0.98, None),
        ("Adelie", "f1", 0.99, None),
        ("Chinstrap", "f1", 0.80, 0.75),
    ]
    again = parse_summary(dump_summary(summary), "test")
    assert again.schema_version == 3
    assert again.per_class == summary.per_class
