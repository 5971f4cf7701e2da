"""Which parts of a drift alert concern a spec: alerts are untrusted input, and a measurement
below its threshold, or about a column the spec does not have, is no reason to retrain.

Model Monitoring anomalies must name one of the spec's features (or its label) and carry a
measurement over its threshold. TFDV anomalies come from the spec's own pipeline: schema
anomalies (a new or missing column) count as they are, measurements only over their threshold.
"""

from __future__ import annotations

from retrain.events.types import DriftAlert, FeatureDrift
from retrain.spec import Spec


def relevant_features(spec: Spec, alert: DriftAlert) -> list[FeatureDrift]:
    known = {*spec.feature_names, spec.label}
    kept = []
    for feature in alert.features:
        measured = feature.value is not None and feature.threshold is not None
        if alert.source == "model-monitoring" and (feature.feature not in known or not measured):
            continue
        if measured and not (feature.value or 0.0) > (feature.threshold or 0.0):
            continue
        kept.append(feature)
    return kept


def described(features: list[FeatureDrift]) -> str:
    return ", ".join(sorted({f"{f.feature} ({f.kind})" for f in features}))
