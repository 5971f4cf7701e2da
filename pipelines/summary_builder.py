"""Turn what TFMA and TFDV wrote into the evaluation summary contract.

Pure: the component reads the artefacts and passes plain values in, so the mapping from
TFMA's metric keys to spec metric names is tested without running a pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from retrain.metrics import TFMA_NAMES
from retrain.spec.model import Spec
from retrain.summary import (
    Anomaly,
    EvaluationSummary,
    ModelRef,
    RunInfo,
    SliceMetric,
    thresholds_from_spec,
)

_BY_TFMA_NAME = {tfma: name for name, tfma in TFMA_NAMES.items()}
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


def _number(value: float) -> float:
    return value if math.isfinite(value) else float("nan")


def slice_metrics(values: Iterable[MetricValue], wanted: Sequence[str]) -> list[SliceMetric]:
    """Candidate and baseline side by side, per slice, for the spec's metrics only."""
    table: dict[tuple[tuple[tuple[str, str], ...], str], dict[str, float]] = {}
    counts: dict[tuple[tuple[str, str], ...], int] = {}
    for v in values:
        if v.is_diff:
            continue
        if v.name == "example_count" and v.model_name in ("", CANDIDATE):
            counts[v.slice] = int(v.value)
            continue
        metric = _BY_TFMA_NAME.get(v.name)
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
) -> EvaluationSummary:
    wanted = [m.name for m in spec.evaluation.metrics]
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
        metrics=slice_metrics(values, wanted),
        thresholds=thresholds_from_spec(spec),
        anomalies=anomalies,
        example_counts=example_counts,
    )
