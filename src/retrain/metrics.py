"""The metrics a spec may name, with the TFMA metric behind each and which way is better.

Kept free of TFX imports: the service compares summaries with it, the pipeline builds
its EvalConfig from it, and both must agree on names and directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Task = Literal["binary_classification", "multiclass_classification", "regression"]
CLASSIFICATION: tuple[Task, ...] = ("binary_classification", "multiclass_classification")


@dataclass(frozen=True)
class MetricInfo:
    name: str
    tfma_class: str
    higher_is_better: bool
    tasks: tuple[Task, ...]
    bounds: tuple[float | None, float | None] = (None, None)
    macro: bool = False  # multiclass: averaged over the spec's classes (TFMA macro average)


@dataclass(frozen=True)
class TfmaMetric:
    """How one spec metric is asked of TFMA for one task, and the key name TFMA reports."""

    class_name: str
    key_name: str
    macro: bool = False


METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        MetricInfo("auc", "AUC", True, ("binary_classification",), (0.0, 1.0)),
        MetricInfo("accuracy", "BinaryAccuracy", True, CLASSIFICATION, (0.0, 1.0)),
        MetricInfo("precision", "Precision", True, ("binary_classification",), (0.0, 1.0)),
        MetricInfo("recall", "Recall", True, ("binary_classification",), (0.0, 1.0)),
        MetricInfo(
            "macro_precision",
            "Precision",
            True,
            ("multiclass_classification",),
            (0.0, 1.0),
            True,
        ),
        MetricInfo(
            "macro_recall", "Recall", True, ("multiclass_classification",), (0.0, 1.0), True
        ),
        MetricInfo("macro_f1", "F1Score", True, ("multiclass_classification",), (0.0, 1.0), True),
        MetricInfo("rmse", "RootMeanSquaredError", False, ("regression",), (0.0, None)),
        MetricInfo("mae", "MeanAbsoluteError", False, ("regression",), (0.0, None)),
        MetricInfo("mse", "MeanSquaredError", False, ("regression",), (0.0, None)),
    )
}

# TFMA reports metrics under the Keras/TFMA name of their class, lower-cased by convention.
TFMA_NAMES: dict[str, str] = {
    "auc": "auc",
    "accuracy": "binary_accuracy",
    "precision": "precision",
    "recall": "recall",
    "macro_precision": "precision",
    "macro_recall": "recall",
    "macro_f1": "f1_score",
    "rmse": "root_mean_squared_error",
    "mae": "mean_absolute_error",
    "mse": "mean_squared_error",
}

# Multiclass accuracy is Keras' sparse categorical accuracy over the class scores: TFMA
# turns string labels into class ids with the model's `classes` output first.
_MULTICLASS_ACCURACY = TfmaMetric("SparseCategoricalAccuracy", "sparse_categorical_accuracy")


def tfma_metric(name: str, task: Task) -> TfmaMetric:
    """The TFMA metric behind spec metric `name` for `task`."""
    if name == "accuracy" and task == "multiclass_classification":
        return _MULTICLASS_ACCURACY
    info = METRICS[name]
    return TfmaMetric(info.tfma_class, TFMA_NAMES[name], info.macro)


def spec_metric_for(key_name: str, macro: bool, task: Task) -> str | None:
    """The spec metric a TFMA key (name, macro-averaged or not) reports, or None."""
    for name, info in METRICS.items():
        if task in info.tasks:
            wanted = tfma_metric(name, task)
            if wanted.key_name == key_name and wanted.macro == macro:
                return name
    return None
