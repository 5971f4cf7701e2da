"""The metrics a spec may name, with the TFMA metric behind each and which way is better.

Kept free of TFX imports: the service compares summaries with it, the pipeline builds
its EvalConfig from it, and both must agree on names and directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Task = Literal["binary_classification", "regression"]


@dataclass(frozen=True)
class MetricInfo:
    name: str
    tfma_class: str
    higher_is_better: bool
    tasks: tuple[Task, ...]
    bounds: tuple[float | None, float | None] = (None, None)


METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        MetricInfo("auc", "AUC", True, ("binary_classification",), (0.0, 1.0)),
        MetricInfo("accuracy", "BinaryAccuracy", True, ("binary_classification",), (0.0, 1.0)),
        MetricInfo("precision", "Precision", True, ("binary_classification",), (0.0, 1.0)),
        MetricInfo("recall", "Recall", True, ("binary_classification",), (0.0, 1.0)),
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
    "rmse": "root_mean_squared_error",
    "mae": "mean_absolute_error",
    "mse": "mean_squared_error",
}
