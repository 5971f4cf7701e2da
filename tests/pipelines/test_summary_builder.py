"""TFMA metric keys to the summary contract, without running TFX."""

from __future__ import annotations

import math
from pathlib import Path

from pipelines.summary_builder import (
    MetricValue,
    RawConfusion,
    Spread,
    build_summary,
    confusion_cells,
    interval,
    slice_metrics,
    training_facts,
)
from retrain.spec import load_spec
from retrain.summary import SCHEMA_VERSION, ModelRef, RunInfo, dump_summary, parse_summary
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
    assert again.schema_version == SCHEMA_VERSION == 4
    assert again.per_class == summary.per_class


def _t(level: float, dof: int) -> float:
    """Student's t quantiles for 19 degrees of freedom (TFMA's 20 resamples), from tables."""
    return {(0.95, 19): 2.093, (0.9, 19): 1.729}[(level, dof)]


def test_intervals_are_drawn_at_the_specs_level_around_the_resamples_mean() -> None:
    spread = Spread(mean=0.80, standard_error=0.01, degrees_of_freedom=19)
    wide, narrow = interval(spread, 0.95, _t), interval(spread, 0.9, _t)
    assert wide is not None and narrow is not None
    assert (round(wide.low, 5), round(wide.high, 5)) == (0.77907, 0.82093)
    assert narrow.high - narrow.low < wide.high - wide.low
    assert interval(None, 0.95, _t) is None
    assert interval(Spread(0.8, 0.01, 0), 0.95, _t) is None  # one resample: no interval


def test_metric_and_change_intervals_come_from_tfmas_bootstrap() -> None:
    def spread(mean: float) -> Spread:
        return Spread(mean=mean, standard_error=0.005, degrees_of_freedom=19)

    rows = slice_metrics(
        [
            MetricValue(OVERALL, "auc", "candidate", False, 0.91, spread=spread(0.905)),
            MetricValue(OVERALL, "auc", "baseline", False, 0.89, spread=spread(0.89)),
            MetricValue(OVERALL, "auc", "candidate", True, 0.02, spread=spread(0.015)),
            MetricValue(OVERALL, "binary_accuracy", "candidate", False, 0.85),
        ],
        ["auc", "accuracy"],
        level=0.95,
        t_quantile=_t,
    )
    auc, accuracy = rows
    assert auc.candidate == 0.91 and auc.baseline == 0.89  # the point values stay TFMA's
    assert auc.candidate_interval is not None and auc.change_interval is not None
    assert round(auc.candidate_interval.low, 6) == round(0.905 - 0.005 * 2.093, 6)
    assert round(auc.change_interval.high, 6) == round(0.015 + 0.005 * 2.093, 6)
    assert auc.baseline_interval is not None
    assert accuracy.candidate_interval is None and accuracy.change_interval is None


def test_confusion_entries_get_class_names_candidate_first() -> None:
    cells = confusion_cells(
        [
            RawConfusion("baseline", 0, 0, 5.0),
            RawConfusion("candidate", 1, 0, 2.0),
            RawConfusion("candidate", 0, 0, 7.0),
            RawConfusion("candidate", 2, -1, 1.0),
            RawConfusion("candidate", 9, 0, 3.0),  # not a class of the spec: left out
        ],
        ["Adelie", "Chinstrap", "Gentoo"],
    )
    assert [(c.model, c.actual, c.predicted, c.count) for c in cells] == [
        ("candidate", "Adelie", "Adelie", 7.0),
        ("candidate", "Chinstrap", "Adelie", 2.0),
        ("candidate", "Gentoo", "none", 1.0),
        ("baseline", "Adelie", "Adelie", 5.0),
    ]


def test_training_facts_say_how_much_of_the_train_split_was_seen(tmp_path: Path) -> None:
    """Fixed steps see a sample of a large split, and the summary says so (issue 29)."""
    spec = load_spec(REPO / "specs" / "churn.yaml")  # 300 steps, batch 64
    small, large = training_facts(spec, 3_213), training_facts(spec, 800_000)
    assert (small.train_steps, small.batch_size, small.epochs) == (300, 64, None)
    assert small.coverage is not None and small.coverage > 1 and small.warning == ""
    assert large.coverage == 0.024
    assert large.warning.startswith("training sees 2.4% of its rows: train_steps 300")
    by_epochs = tmp_path / "churn.yaml"
    by_epochs.write_text(spec_text("churn").replace("train_steps: 300", "epochs: 2"))
    facts = training_facts(load_spec(by_epochs), 800_000)
    assert (facts.epochs, facts.coverage, facts.warning) == (2, None, "")


def spec_text(name: str) -> str:
    return (REPO / "specs" / f"{name}.yaml").read_text()
