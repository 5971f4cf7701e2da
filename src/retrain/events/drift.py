"""Drift alerts -> DriftAlert. The sources, each a shape Google documents as logged:

- Model Monitoring `ModelMonitoringAnomaliesLogEntry` (`jsonPayload.@type` ending in that name,
  or a log name ending in model_monitoring_anomaly): the example entry on Google's Model
  Monitoring page (`modelDeploymentMonitoringJob`, `deployedModelId`, `featureAnomalies`). v1
  jobs log it, and so do v2 model monitors (`model_monitoring_spec.proto`,
  `enable_cloud_logging`); where the payload names no job, `resource.labels` does;
- Model Monitoring v1 `ModelMonitoringStatsAnomalies` (`model_monitoring.proto`, the comment on
  `enable_logging`): `objective`, `deployedModelId`, `anomalyCount`, `featureStats[]`; the job
  is only in `resource.labels`;
- Model Monitoring v2 alerts as `ModelMonitoringAlert` JSON (`anomaly.modelMonitoringJob`);
- TFDV `Anomalies` of a finished run, published by `on_run_complete`
  (`retrain.completion.alerts`): `{"spec", "run_id", "anomalies": <Anomalies as JSON>}`,
  bare or as a log entry's jsonPayload. Both `anomalyInfo` (schema: new/missing column...) and
  `driftSkewInfo` (L-infinity, Jensen-Shannon measurements over their threshold) count.

Entries are untrusted: a malformed one is an EventError naming the field (`jsonPayload.…`);
the router logs it under the event's id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from retrain.errors import EventError
from retrain.events.fields import count, dig, number, text, timestamp
from retrain.events.types import Dismissed, DriftAlert, FeatureDrift

MONITORING_TYPE_SUFFIX = "ModelMonitoringAnomaliesLogEntry"
STATS_ANOMALIES_TYPE_SUFFIX = "ModelMonitoringStatsAnomalies"
MONITORING_LOG_SUFFIX = "model_monitoring_anomaly"
MONITOR_KINDS = ("modelDeploymentMonitoringJobs", "modelMonitors")
# Cloud Logging monitored resources of Model Monitoring -> (the label naming the resource, the
# collection it is in). `ModelMonitor` and its `model_monitor_id` label: Google's list of
# monitored resource types. The v1 job's resource and label are those of the documented example
# entry (`tests/golden/events/monitoring_anomaly*.json`); docs/events.md says to check them.
MONITORED_RESOURCES = {
    "aiplatform.googleapis.com/ModelDeploymentMonitoringJob": (
        "model_deployment_monitoring_job",
        "modelDeploymentMonitoringJobs",
    ),
    "aiplatform.googleapis.com/ModelMonitor": ("model_monitor_id", "modelMonitors"),
}
# `ModelDeploymentMonitoringObjectiveType` (v1 `model_deployment_monitoring_job.proto`): the
# proto JSON mapping writes enum names, and parsers accept the numbers too.
OBJECTIVE_NAMES = {
    1: "RAW_FEATURE_SKEW",
    2: "RAW_FEATURE_DRIFT",
    3: "FEATURE_ATTRIBUTION_SKEW",
    4: "FEATURE_ATTRIBUTION_DRIFT",
}
_RESOURCE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}", re.ASCII)


def decode_drift(payload: dict[str, Any]) -> DriftAlert | Dismissed:
    body = payload.get("jsonPayload", payload)
    if not isinstance(body, dict):
        raise EventError("jsonPayload is not an object")
    if isinstance(body.get("anomalies"), dict):
        return _decode_tfdv(payload, body)
    log_name = text(payload, "logName")
    if isinstance(body.get("anomaly"), dict) and "modelMonitoringJob" in body["anomaly"]:
        return _decode_monitoring_v2(payload, body)
    kind = text(body, "@type")
    if kind.endswith(STATS_ANOMALIES_TYPE_SUFFIX) or (
        "featureStats" in body and "featureAnomalies" not in body
    ):
        return _decode_stats_anomalies(payload, body)
    if kind.endswith(MONITORING_TYPE_SUFFIX) or log_name.endswith(MONITORING_LOG_SUFFIX):
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


def _resource_monitor(payload: dict[str, Any]) -> str:
    """`KIND/ID` of the monitoring resource the entry was logged under (`resource.type` and its
    label); empty when the entry's resource is not a Model Monitoring one."""
    resource_type = text(payload, "resource", "type")
    if resource_type not in MONITORED_RESOURCES:
        return ""
    label, kind = MONITORED_RESOURCES[resource_type]
    found = text(payload, "resource", "labels", label)
    if not _RESOURCE_ID.fullmatch(found):
        raise EventError(f"resource.labels.{label} is not a resource id: {found[:40]!r}")
    return f"{kind}/{found}"


def _monitor(payload: dict[str, Any], body: dict[str, Any]) -> str:
    """The monitoring resource: the payload's `modelDeploymentMonitoringJob` when it names one,
    else `resource.labels`; both present and different is a forged or broken entry."""
    job = text(body, "modelDeploymentMonitoringJob")
    from_payload = monitor_key(job) if job else ""
    if job and not from_payload:
        raise EventError(
            f"jsonPayload.modelDeploymentMonitoringJob {job[:80]!r} is not a monitoring job name"
        )
    from_resource = _resource_monitor(payload)
    if from_payload and from_resource and from_payload != from_resource:
        raise EventError(
            f"jsonPayload.modelDeploymentMonitoringJob names {from_payload}, "
            f"resource.labels name {from_resource}"
        )
    monitor = from_payload or from_resource
    if not monitor:
        raise EventError(
            "missing field jsonPayload.modelDeploymentMonitoringJob, and resource.type is not a "
            f"Model Monitoring resource ({', '.join(sorted(MONITORED_RESOURCES))})"
        )
    return monitor


def _decode_monitoring(payload: dict[str, Any], body: dict[str, Any]) -> DriftAlert | Dismissed:
    """`ModelMonitoringAnomaliesLogEntry` as in Google's example: `modelDeploymentMonitoringJob`
    (or `resource.labels`), `deployedModelId`, `featureAnomalies[{featureDisplayName,
    deviation, threshold}]`; no model name, so the spec is found by the monitoring resource it
    names (`triggers.drift.monitors`)."""
    monitor = _monitor(payload, body)
    objective = text(body, "anomalyObjective") or text(body, "objective") or "DRIFT"
    items = body.get("featureAnomalies", [])
    if not isinstance(items, list):
        raise EventError("jsonPayload.featureAnomalies is not a list")
    features = []
    for at, item in enumerate(items):
        with _naming(f"jsonPayload.featureAnomalies[{at}]"):
            features.append(
                FeatureDrift(
                    feature=text(item, "featureDisplayName", required=True),
                    kind=objective,
                    value=number(item, "deviation"),
                    threshold=number(item, "threshold"),
                )
            )
    if not features:
        return Dismissed(reason=f"Model Monitoring entry of {monitor} lists no feature anomalies")
    return _monitoring_alert(payload, monitor, text(body, "deployedModelId"), objective, features)


def _monitoring_alert(
    payload: dict[str, Any],
    monitor: str,
    deployed: str,
    objective: str,
    features: list[FeatureDrift],
) -> DriftAlert:
    when = text(payload, "timestamp", required=True)
    return DriftAlert(
        models=(monitor,),
        key=f"monitoring:{monitor}:{deployed}:{objective}:{when}",
        time=timestamp(payload, "timestamp"),
        source="model-monitoring",
        features=tuple(features),
    )


def _decode_stats_anomalies(
    payload: dict[str, Any], body: dict[str, Any]
) -> DriftAlert | Dismissed:
    """v1 `ModelMonitoringStatsAnomalies` (proto JSON): a feature drifted when one of its
    `predictionStats[]` windows (`FeatureStatsAnomaly`) has a `distributionDeviation` over that
    window's `anomalyDetectionThreshold`, or over the feature's `threshold.value` when the
    window carries none (`feature_monitoring_stats.proto`: the threshold used may differ from
    the configured one). The job is in `resource.labels` only."""
    monitor = _monitor(payload, body)
    objective = _objective(body)
    declared = count(body, "anomalyCount") or 0
    items = body.get("featureStats", [])
    if not isinstance(items, list):
        raise EventError("jsonPayload.featureStats is not a list")
    features: list[FeatureDrift] = []
    for at, item in enumerate(items):
        with _naming(f"jsonPayload.featureStats[{at}]"):
            drift = _feature_stats_drift(item, objective)
        if drift is not None:
            features.append(drift)
    if not features:
        return Dismissed(
            reason=f"Model Monitoring stats of {monitor} show no feature over its threshold "
            f"(anomalyCount {declared})"
        )
    return _monitoring_alert(payload, monitor, text(body, "deployedModelId"), objective, features)


def _objective(body: dict[str, Any]) -> str:
    raw = body.get("objective")
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw not in OBJECTIVE_NAMES:
            raise EventError(f"jsonPayload.objective {raw} is not a monitoring objective")
        return OBJECTIVE_NAMES[raw]
    return text(body, "objective") or "DRIFT"


def _feature_stats_drift(item: Any, objective: str) -> FeatureDrift | None:
    """The largest over-threshold deviation of one `FeatureHistoricStatsAnomalies`, or None."""
    if not isinstance(item, dict):
        raise EventError("is not an object")
    feature = text(item, "featureDisplayName", required=True)
    configured = number(item, "threshold", "value")
    windows = item.get("predictionStats", [])
    if not isinstance(windows, list):
        raise EventError("predictionStats is not a list")
    worst: tuple[float, float] | None = None
    for at, window in enumerate(windows):
        with _naming(f"predictionStats[{at}]"):
            deviation = number(window, "distributionDeviation")
            threshold = number(window, "anomalyDetectionThreshold")
        threshold = threshold if threshold is not None else configured
        if deviation is None or threshold is None or deviation <= threshold:
            continue
        if worst is None or deviation > worst[0]:
            worst = (deviation, threshold)
    if worst is None:
        return None
    return FeatureDrift(feature=feature, kind=objective, value=worst[0], threshold=worst[1])


@contextmanager
def _naming(where: str) -> Iterator[None]:
    """Prefix an EventError raised inside with the place in the entry it is about."""
    try:
        yield
    except EventError as exc:
        raise EventError(f"{where}: {exc}") from exc


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
