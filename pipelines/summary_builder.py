"""Turn what TFMA and TFDV wrote into the evaluation summary contract.

Pure: the component reads the artefacts and passes plain values in, so the mapping from
TFMA's metric keys to spec metric names is tested without running a pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from retrain.metrics import Task, spec_metric_for
from retrain.spec.model import Spec
from retrain.summary import (
    Anomaly,
    ClassMetric,
    DataFacts,
    EvaluationSummary,
    Lineage,
    ModelRef,
    RunInfo,
    SliceMetric,
    thresholds_from_spec,
)

# TFMA's per-class key names, as the summary reports them.
PER_CLASS_NAMES = {"precision": "precision", "recall": "recall", "f1_score": "f1"}
CANDIDATE = "candidate"
BASELINE = "baseline"


@dataclass(frozen=True)
class MetricValue:
    """One TFMA metric value: slice, metric key name, model name, and whether it is a diff."""

    slice: tuple[tuple[str, str], ...]
    name: str
    model_name: str
    is_diff: bool
    value: float
    class_id: int | None = None  # a binarized per-class value
    macro: bool = False  # a macro average over the classes


def _number(value: float) -> float:
    return value if math.isfinite(value) else float("nan")


def slice_metrics(
    values: Iterable[MetricValue], wanted: Sequence[str], task: Task = "binary_classification"
) -> list[SliceMetric]:
    """Candidate and baseline side by side, per slice, for the spec's metrics only."""
    table: dict[tuple[tuple[tuple[str, str], ...], str], dict[str, float]] = {}
    counts: dict[tuple[tuple[str, str], ...], int] = {}
    for v in values:
        if v.is_diff or v.class_id is not None:
            continue
        if v.name == "example_count" and v.model_name in ("", CANDIDATE):
            counts[v.slice] = int(v.value)
            continue
        metric = spec_metric_for(v.name, v.macro, task)
        if metric is None or metric not in wanted:
            continue
        side = BASELINE if v.model_name == BASELINE else CANDIDATE
        table.setdefault((v.slice, metric), {})[side] = _number(v.value)
    rows = [
        SliceMetric(
            slice=dict(slice_key),
            metric=metric,
            candidate=sides.get(CANDIDATE),
            baseline=sides.get(BASELINE),
            example_count=counts.get(slice_key),
        )
        for (slice_key, metric), sides in table.items()
    ]
    return sorted(
        rows, key=lambda r: (len(r.slice), sorted(r.slice.items()), wanted.index(r.metric))
    )


def per_class(values: Iterable[MetricValue], classes: Sequence[str]) -> list[ClassMetric]:
    """Per-class precision, recall and F1 on the whole eval set, in the spec's class order."""
    table: dict[tuple[int, str], dict[str, float]] = {}
    for v in values:
        name = PER_CLASS_NAMES.get(v.name)
        if v.is_diff or v.slice or v.macro or v.class_id is None or name is None:
            continue
        if not 0 <= v.class_id < len(classes):
            continue
        side = BASELINE if v.model_name == BASELINE else CANDIDATE
        table.setdefault((v.class_id, name), {})[side] = _number(v.value)
    order = list(PER_CLASS_NAMES.values())
    return [
        ClassMetric(
            class_name=classes[class_id],
            metric=name,
            candidate=sides.get(CANDIDATE),
            baseline=sides.get(BASELINE),
        )
        for (class_id, name), sides in sorted(
            table.items(), key=lambda i: (i[0][0], order.index(i[0][1]))
        )
    ]


def build_summary(
    spec: Spec,
    run: RunInfo,
    values: Iterable[MetricValue],
    blessed: bool,
    validation_failures: list[str],
    candidate: ModelRef,
    baseline: ModelRef | None,
    anomalies: list[Anomaly],
    example_counts: dict[str, int],
    data: DataFacts | None = None,
    lineage: Lineage | None = None,
) -> EvaluationSummary:
    wanted = [m.name for m in spec.evaluation.metrics]
    values = list(values)
    return EvaluationSummary(
        spec=spec.name,
        spec_version=spec.fingerprint(),
        owner=spec.owner,
        description=spec.description,
        task=spec.task,
        run=run,
        blessed=blessed,
        validation_failures=validation_failures,
        candidate=candidate,
        baseline=baseline,
        metrics=slice_metrics(values, wanted, spec.task),
        thresholds=thresholds_from_spec(spec),
        anomalies=anomalies,
        example_counts=example_counts,
        data=data,
        per_class=per_class(values, spec.classes or []),
        lineage=lineage,
    )
