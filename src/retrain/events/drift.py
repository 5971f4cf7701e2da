"""Drift alerts -> DriftAlert. Two sources:

- Vertex Model Monitoring anomaly log entries (`jsonPayload.@type` ending in
  ModelMonitoringAnomaliesLogEntry, or a log name ending in model_monitoring_anomaly), features
  under `featureAnomalies`;
- TFDV `Anomalies` our pipelines publish: `{"spec", "run_id", "anomalies": <Anomalies as JSON>}`,
  bare or as a log entry's jsonPayload. Both `anomalyInfo` (schema: new/missing column...) and
  `driftSkewInfo` (L-infinity, Jensen-Shannon measurements over their threshold) count.
"""

from __future__ import annotations

from typing import Any

from retrain.errors import EventError
from retrain.events.fields import dig, mapping, number, text, timestamp
from retrain.events.types import Dismissed, DriftAlert, FeatureDrift

MONITORING_TYPE_SUFFIX = "ModelMonitoringAnomaliesLogEntry"
MONITORING_LOG_SUFFIX = "model_monitoring_anomaly"


def decode_drift(payload: dict[str, Any]) -> DriftAlert | Dismissed:
    body = payload.get("jsonPayload", payload)
    if not isinstance(body, dict):
        raise EventError("jsonPayload is not an object")
    if isinstance(body.get("anomalies"), dict):
        return _decode_tfdv(payload, body)
    log_name = text(payload, "logName")
    if text(body, "@type").endswith(MONITORING_TYPE_SUFFIX) or log_name.endswith(
        MONITORING_LOG_SUFFIX
    ):
        return _decode_monitoring(payload, body)
    raise EventError("not a drift alert: neither a Model Monitoring anomaly nor TFDV anomalies")


def _path_name(info: Any) -> str:
    steps = dig(info, "path", "step")
    if isinstance(steps, list) and steps:
        return ".".join(str(s) for s in steps)
    return ""


def _decode_tfdv(payload: dict[str, Any], body: dict[str, Any]) -> DriftAlert | Dismissed:
    spec = text(body, "spec", required=True)
    run_id = text(body, "run_id", required=True)
    anomalies = body["anomalies"]
    features: list[FeatureDrift] = []
    info = anomalies.get("anomalyInfo") or {}
    if not isinstance(info, dict):
        raise EventError("anomalies.anomalyInfo is not an object")
    for feature, item in sorted(info.items()):
        reasons = dig(item, "reason") or [{"type": "UNKNOWN_TYPE"}]
        if not isinstance(reasons, list):
            raise EventError(f"anomalyInfo.{feature}.reason is not a list")
        features.extend(
            FeatureDrift(feature=feature, kind=text(r, "type") or "UNKNOWN_TYPE") for r in reasons
        )
    drift_skew = anomalies.get("driftSkewInfo") or []
    if not isinstance(drift_skew, list):
        raise EventError("anomalies.driftSkewInfo is not a list")
    for item in drift_skew:
        measurements = []
        for key in ("driftMeasurements", "skewMeasurements"):
            found = dig(item, key) or []
            if not isinstance(found, list):
                raise EventError(f"driftSkewInfo.{key} is not a list")
            measurements.extend(found)
        for m in measurements:
            value, threshold = number(m, "value"), number(m, "threshold")
            if value is not None and threshold is not None and value > threshold:
                features.append(
                    FeatureDrift(
                        feature=_path_name(item),
                        kind=text(m, "type"),
                        value=value,
                        threshold=threshold,
                    )
                )
    if not features:
        return Dismissed(reason=f"TFDV reported no anomalies for {spec} run {run_id}")
    return DriftAlert(
        models=(spec,),
        key=f"tfdv:{spec}:{run_id}",
        time=timestamp(payload, "timestamp"),
        source="tfdv",
        features=tuple(features),
    )


def _decode_monitoring(payload: dict[str, Any], body: dict[str, Any]) -> DriftAlert | Dismissed:
    labels = mapping(payload, "labels")
    models = tuple(
        name
        for name in (
            labels.get("retrain-spec", ""),
            text(body, "modelDisplayName"),
            text(body, "deployedModelDisplayName"),
        )
        if name
    )
    if not models:
        raise EventError(
            "Model Monitoring anomaly names no model (labels.retrain-spec, modelDisplayName)"
        )
    objective = text(body, "anomalyObjective") or text(body, "objective") or "DRIFT"
    items = body.get("featureAnomalies", [])
    if not isinstance(items, list):
        raise EventError("featureAnomalies is not a list")
    features = tuple(
        FeatureDrift(
            feature=text(item, "featureDisplayName", required=True),
            kind=objective,
            value=number(item, "value"),
            threshold=number(item, "threshold"),
        )
        for item in items
    )
    if not features:
        return Dismissed(
            reason=f"Model Monitoring entry for {models[0]} lists no feature anomalies"
        )
    job = text(body, "modelMonitoringJob") or text(
        payload, "resource", "labels", "model_deployment_monitoring_job"
    )
    when = text(payload, "timestamp")
    key = (
        f"monitoring:{job}:{objective}:{when}"
        if job and when
        else text(payload, "insertId", required=True)
    )
    return DriftAlert(
        models=models,
        key=key,
        time=timestamp(payload, "timestamp"),
        source="model-monitoring",
        features=features,
    )
