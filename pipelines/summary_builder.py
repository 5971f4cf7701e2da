"""Turn what TFMA and TFDV wrote into the evaluation summary contract.

Pure: the component reads the artefacts and passes plain values in, so the mapping from
TFMA's metric keys to spec metric names is tested without running a pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from retrain.metrics import Task, spec_metric_for
from retrain.spec.coverage import batch_size_of, split_coverage
from retrain.spec.model import Spec
from retrain.summary import (
    Anomaly,
    ClassMetric,
    Confidence,
    ConfusionCell,
    DataFacts,
    EvaluationSummary,
    Interval,
    Lineage,
    ModelRef,
    RunInfo,
    SliceMetric,
    SpecChange,
    Training,
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
    spread: Spread | None = None  # TFMA's bootstrap of this value, when it computed one


@dataclass(frozen=True)
class Spread:
    """What TFMA keeps of a bootstrapped value (metrics_for_slice.proto `ConfidenceInterval`):
    the resamples' mean (the middle of its 95% interval), their standard error and the
    degrees of freedom (resamples - 1). Enough to draw the interval at any level."""

    mean: float
    standard_error: float
    degrees_of_freedom: int


@dataclass(frozen=True)
class RawConfusion:
    """One confusion matrix entry as TFMA counts it: class ids (-1: no prediction)."""

    model_name: str
    actual: int
    predicted: int
    count: float


# The two-sided t quantile for (level, degrees of freedom): scipy's in the pipeline, as TFMA's
# own interval uses (`math_util.calculate_confidence_interval`); passed in to stay pure.
TQuantile = Callable[[float, int], float]


def _number(value: float) -> float:
    return value if math.isfinite(value) else float("nan")


def interval(spread: Spread | None, level: float, t_quantile: TQuantile) -> Interval | None:
    """The interval at `level` around the resamples' mean, as TFMA draws its 95% one."""
    if spread is None or spread.degrees_of_freedom < 1:
        return None
    half = spread.standard_error * t_quantile(level, spread.degrees_of_freedom)
    low, high = spread.mean - half, spread.mean + half
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return Interval(low=low, high=high)


def _no_quantile(level: float, dof: int) -> float:
    raise AssertionError("a spread without a t quantile to draw it")


def slice_metrics(
    values: Iterable[MetricValue],
    wanted: Sequence[str],
    task: Task = "binary_classification",
    level: float = 0.95,
    t_quantile: TQuantile = _no_quantile,
) -> list[SliceMetric]:
    """Candidate and baseline side by side, per slice, for the spec's metrics only, each with
    its interval and the change's (TFMA's diff metric) when TFMA bootstrapped them."""
    table: dict[tuple[tuple[tuple[str, str], ...], str], dict[str, float]] = {}
    spreads: dict[tuple[tuple[tuple[str, str], ...], str], dict[str, Spread]] = {}
    counts: dict[tuple[tuple[str, str], ...], int] = {}
    for v in values:
        if v.class_id is not None:
            continue
        if v.name == "example_count" and v.model_name in ("", CANDIDATE) and not v.is_diff:
            counts[v.slice] = int(v.value)
            continue
        metric = spec_metric_for(v.name, v.macro, task)
        if metric is None or metric not in wanted:
            continue
        side = "change" if v.is_diff else BASELINE if v.model_name == BASELINE else CANDIDATE
        if v.spread is not None:
            spreads.setdefault((v.slice, metric), {})[side] = v.spread
        if not v.is_diff:
            table.setdefault((v.slice, metric), {})[side] = _number(v.value)

    def drawn(key: tuple[tuple[tuple[str, str], ...], str], side: str) -> Interval | None:
        return interval(spreads.get(key, {}).get(side), level, t_quantile)

    rows = [
        SliceMetric(
            slice=dict(key[0]),
            metric=key[1],
            candidate=sides.get(CANDIDATE),
            baseline=sides.get(BASELINE),
            example_count=counts.get(key[0]),
            candidate_interval=drawn(key, CANDIDATE),
            baseline_interval=drawn(key, BASELINE) if BASELINE in sides else None,
            change_interval=drawn(key, "change") if BASELINE in sides else None,
        )
        for key, sides in table.items()
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


_CHANGES = TypeAdapter(list[SpecChange])


def parse_changes(text: str) -> list[SpecChange]:
    """The `spec_changes` run value (retrain.delivery.candidate.changes_parameter)."""
    if not text:
        return []
    try:
        return _CHANGES.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"run value spec_changes: {where}: {first['msg']}") from exc


def class_names(spec: Spec) -> list[str]:
    """The names a confusion matrix's class ids stand for: the spec's classes, or the binary
    label's two values."""
    return list(spec.classes) if spec.classes else ["0", "1"]


def confusion_cells(entries: Iterable[RawConfusion], names: Sequence[str]) -> list[ConfusionCell]:
    """TFMA's entries with class names, candidate first, in class order; -1 is `none`."""

    def name(class_id: int) -> str | None:
        if class_id == -1:
            return "none"
        return names[class_id] if 0 <= class_id < len(names) else None

    cells = []
    for e in entries:
        actual, predicted = name(e.actual), name(e.predicted)
        if actual is None or predicted is None or not math.isfinite(e.count):
            continue
        model = "baseline" if e.model_name == BASELINE else "candidate"
        cells.append(ConfusionCell(model=model, actual=actual, predicted=predicted, count=e.count))
    order = {n: i for i, n in enumerate([*names, "none"])}
    return sorted(cells, key=lambda c: (c.model == "baseline", order[c.actual], order[c.predicted]))


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
    confidence: Confidence | None = None,
    t_quantile: TQuantile = _no_quantile,
    confusion: Iterable[RawConfusion] = (),
    changes: Sequence[SpecChange] = (),
) -> EvaluationSummary:
    wanted = [m.name for m in spec.evaluation.metrics]
    values = list(values)
    level = confidence.level if confidence is not None else 0.95  # no spreads without it
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
        metrics=slice_metrics(values, wanted, spec.task, level, t_quantile),
        thresholds=thresholds_from_spec(spec),
        anomalies=anomalies,
        example_counts=example_counts,
        data=data,
        per_class=per_class(values, spec.classes or []),
        lineage=lineage,
        confidence=confidence,
        slices_gate=spec.evaluation.slices_gate,
        within_noise=spec.evaluation.within_noise,
        confusion=confusion_cells(confusion, class_names(spec)),
        changes=list(changes),
        training=training_facts(spec, example_counts.get("train", 0)),
    )


def training_facts(spec: Spec, train_rows: int) -> Training:
    """The train split's rows against what the Trainer was told to see (retrain.spec.coverage)."""
    coverage = split_coverage(spec, train_rows)
    return Training(
        train_rows=train_rows,
        train_steps=spec.trainer.train_steps,
        epochs=spec.trainer.epochs,
        batch_size=batch_size_of(spec),
        coverage=round(coverage.fraction, 4) if coverage else None,
        warning=(coverage.warning() or "") if coverage else "",
    )
