"""Drift alerts -> DriftAlert. Three sources:

- Vertex Model Monitoring v1 anomaly log entries (`jsonPayload.@type` ending in
  ModelMonitoringAnomaliesLogEntry, or a log name ending in model_monitoring_anomaly), features
  under `featureAnomalies`;
- Model Monitoring v2 alerts logged as `ModelMonitoringAlert` JSON (`anomaly.modelMonitoringJob`);
- TFDV `Anomalies` of a finished run, published by `on_run_complete`
  (`retrain.completion.alerts`): `{"spec", "run_id", "anomalies": <Anomalies as JSON>}`,
  bare or as a log entry's jsonPayload. Both `anomalyInfo` (schema: new/missing column...) and
  `driftSkewInfo` (L-infinity, Jensen-Shannon measurements over their threshold) count.
"""

from __future__ import annotations

import re
from typing import Any

from retrain.errors import EventError
from retrain.events.fields import dig, number, text, timestamp
from retrain.events.types import Dismissed, DriftAlert, FeatureDrift

MONITORING_TYPE_SUFFIX = "ModelMonitoringAnomaliesLogEntry"
MONITORING_LOG_SUFFIX = "model_monitoring_anomaly"
MONITOR_KINDS = ("modelDeploymentMonitoringJobs", "modelMonitors")


def decode_drift(payload: dict[str, Any]) -> DriftAlert | Dismissed:
    body = payload.get("jsonPayload", payload)
    if not isinstance(body, dict):
        raise EventError("jsonPayload is not an object")
    if isinstance(body.get("anomalies"), dict):
        return _decode_tfdv(payload, body)
    log_name = text(payload, "logName")
    if isinstance(body.get("anomaly"), dict) and "modelMonitoringJob" in body["anomaly"]:
        return _decode_monitoring_v2(payload, body)
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


# anomalies.proto `AnomalyInfo.Type`: enum value names (protobuf's JSON mapping).
_REASON_TYPE = re.compile(r"[A-Z][A-Z0-9_]{0,80}", re.ASCII)


def _anomaly_info(feature: str, item: Any) -> list[FeatureDrift]:
    """One `anomalyInfo` entry as TFDV writes it: an object whose `reason` lists at least one
    `{type: <AnomalyInfo.Type name>}`. Anything else is malformed: an error naming the entry,
    never a feature that drifted for no stated reason (a run bound to fail)."""
    where = f"anomalies.anomalyInfo.{feature[:80]!r}"
    if not feature:
        raise EventError("anomalies.anomalyInfo has an entry without a feature name")
    if not isinstance(item, dict):
        raise EventError(f"{where} is not an object")
    reasons = item.get("reason")
    if not isinstance(reasons, list) or not reasons:
        raise EventError(f"{where}.reason is not a non-empty list")
    kinds = []
    for number_, reason in enumerate(reasons):
        kind = reason.get("type") if isinstance(reason, dict) else None
        if not isinstance(kind, str) or not _REASON_TYPE.fullmatch(kind):
            raise EventError(f"{where}.reason[{number_}].type is not an anomaly type: {kind!r:.60}")
        kinds.append(kind)
    return [FeatureDrift(feature=feature, kind=kind) for kind in kinds]


def _decode_tfdv(payload: dict[str, Any], body: dict[str, Any]) -> DriftAlert | Dismissed:
    spec = text(body, "spec", required=True)
    run_id = text(body, "run_id", required=True)
    anomalies = body["anomalies"]
    features: list[FeatureDrift] = []
    info = anomalies.get("anomalyInfo") or {}
    if not isinstance(info, dict):
        raise EventError("anomalies.anomalyInfo is not an object")
    for feature, item in sorted(info.items()):
        features.extend(_anomaly_info(str(feature), item))
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
                if not _path_name(item):
                    raise EventError("driftSkewInfo: a drift over its threshold names no path")
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


def monitor_key(name: str) -> str:
    """`KIND/ID` of a Model Monitoring resource name (v1 `modelDeploymentMonitoringJobs/ID`,
    v2 `modelMonitors/ID`), whatever comes before it: log entries may spell the project by
    number where a spec spells it by id. Empty when `name` names neither."""
    parts = name.split("/")
    for kind in MONITOR_KINDS:
        if kind in parts[:-1]:
            at = parts.index(kind)
            return f"{kind}/{parts[at + 1]}" if parts[at + 1] else ""
    return ""


def _decode_monitoring(payload: dict[str, Any], body: dict[str, Any]) -> DriftAlert | Dismissed:
    """v1 (ModelDeploymentMonitoringJob): `modelDeploymentMonitoringJob`, `deployedModelId`,
    `featureAnomalies[{featureDisplayName, deviation, threshold}]`; no model name, so the
    spec is found by the monitoring job it names (`triggers.drift.monitors`)."""
    job = text(body, "modelDeploymentMonitoringJob", required=True)
    monitor = monitor_key(job)
    if not monitor:
        raise EventError(f"modelDeploymentMonitoringJob {job!r} is not a monitoring job name")
    objective = text(body, "anomalyObjective") or text(body, "objective") or "DRIFT"
    items = body.get("featureAnomalies", [])
    if not isinstance(items, list):
        raise EventError("featureAnomalies is not a list")
    features = tuple(
        FeatureDrift(
            feature=text(item, "featureDisplayName", required=True),
            kind=objective,
            value=number(item, "deviation"),
            threshold=number(item, "threshold"),
        )
        for item in items
    )
    if not features:
        return Dismissed(reason=f"Model Monitoring entry of {monitor} lists no feature anomalies")
    deployed = text(body, "deployedModelId")
    when = text(payload, "timestamp", required=True)
    return DriftAlert(
        models=(monitor,),
        key=f"monitoring:{monitor}:{deployed}:{objective}:{when}",
        time=timestamp(payload, "timestamp"),
        source="model-monitoring",
        features=features,
    )


def _decode_monitoring_v2(payload: dict[str, Any], body: dict[str, Any]) -> DriftAlert:
    """v2 (ModelMonitor): one `ModelMonitoringAlert` per entry: `statsName` (the feature),
    `objectiveType`, `anomaly.modelMonitoringJob` (under `modelMonitors/ID`), the measured
    `anomaly.tabularAnomaly.anomaly` and its `condition.threshold`."""
    job = text(body, "anomaly", "modelMonitoringJob", required=True)
    monitor = monitor_key(job)
    if not monitor.startswith("modelMonitors/"):
        raise EventError(f"anomaly.modelMonitoringJob {job!r} is not under a model monitor")
    tabular = dig(body, "anomaly", "tabularAnomaly")
    measured = dig(tabular, "anomaly")
    objective = text(body, "objectiveType") or "raw-feature-drift"
    when = text(body, "alertTime") or text(payload, "timestamp", required=True)
    feature = text(body, "statsName", required=True)
    return DriftAlert(
        models=(monitor,),
        key=f"monitoring:{job}:{feature}:{objective}:{when}",
        time=timestamp(payload, "timestamp"),
        source="model-monitoring",
        features=(
            FeatureDrift(
                feature=feature,
                kind=objective,
                value=float(measured) if isinstance(measured, (int, float)) else None,
                threshold=number(tabular, "condition", "threshold"),
            ),
        ),
    )
