"""Model Monitoring entries in every shape Google documents as logged, each golden entry checked
against its source: the v1 proto `ModelMonitoringStatsAnomalies` (the comment on
`ModelMonitoringAlertConfig.enable_logging` in `model_monitoring.proto`), the v1beta1 proto
`ModelMonitoringAlert`, and the example `ModelMonitoringAnomaliesLogEntry` of Google's Model
Monitoring page (no public proto: v1 jobs and, per `model_monitoring_spec.proto`'s
`enable_cloud_logging`, v2 model monitors log it).

Not checkable offline, and what is relied on instead: `ModelMonitoringAnomaliesLogEntry` has
no public proto, so the v2 monitor's entry (`monitoring_v2_log_entry.json`) carries the docs
example's fields without the job; the `ModelMonitor` resource and its `model_monitor_id`
label are from Google's list of monitored resource types; the v1 job's
`model_deployment_monitoring_job` label is the one the golden v1 entries already used (not
found in that list); no log name is documented for the proto-encoded payloads, hence the
sink's match on type and shape."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from google.cloud import aiplatform_v1, aiplatform_v1beta1

from retrain.delivery.logfilter import matches
from retrain.errors import EventError
from retrain.events import Dismissed, DriftAlert, unwrap
from retrain.events.drift import OBJECTIVE_NAMES, decode_drift
from retrain.events.filters import drift_alert_filter
from tests.routing.helpers import make_service

GOLDEN = Path(__file__).parents[1] / "golden" / "events"
PROJECT = "acme-analytics"
JOB = "modelDeploymentMonitoringJob"
# Golden entry -> the proto message its jsonPayload is encoded from (None: the docs example).
SHAPES: dict[str, Any] = {
    "monitoring_stats_anomalies.json": aiplatform_v1.ModelMonitoringStatsAnomalies,
    "monitoring_v2_alert.json": aiplatform_v1beta1.ModelMonitoringAlert,
    "monitoring_anomaly.json": None,
    "monitoring_anomaly_notify.json": None,
    "monitoring_v2_log_entry.json": None,
}


def entry(name: str) -> dict[str, Any]:
    return unwrap((GOLDEN / name).read_bytes()).payload


@pytest.mark.parametrize("name", sorted(n for n, m in SHAPES.items() if m is not None))
def test_golden_payloads_are_their_protos_json(name: str) -> None:
    """Parsed strictly by the SDK's message (unknown fields refused) and written back with the
    proto JSON mapping, the payload comes back unchanged: no field is invented or misspelt."""
    message = SHAPES[name]
    payload = {k: v for k, v in entry(name)["jsonPayload"].items() if k != "@type"}
    parsed = message.from_json(json.dumps(payload), ignore_unknown_fields=False)
    written = json.loads(
        message.to_json(
            parsed,
            use_integers_for_enums=False,
            always_print_fields_with_no_presence=False,
            indent=None,
        )
    )
    assert written == payload


def test_objective_numbers_are_the_sdk_enum() -> None:
    enum = aiplatform_v1.ModelDeploymentMonitoringObjectiveType
    members = enum.__members__.values()
    assert {e.value: e.name for e in members if e.value} == OBJECTIVE_NAMES


def test_stats_anomalies_take_the_job_from_the_resource_labels() -> None:
    alert = decode_drift(entry("monitoring_stats_anomalies.json"))
    assert isinstance(alert, DriftAlert)
    assert alert.models == ("modelDeploymentMonitoringJobs/8812",)
    # tenure_months deviates 0.12 under its 0.3 threshold: not drift
    assert [(f.feature, f.kind, f.value, f.threshold) for f in alert.features] == [
        ("monthly_charges", "RAW_FEATURE_DRIFT", 0.42, 0.3)
    ]
    assert alert.key == (
        "monitoring:modelDeploymentMonitoringJobs/8812:5521:RAW_FEATURE_DRIFT:2026-03-04T06:00:02Z"
    )


def test_stats_anomalies_untyped_with_a_numbered_objective_and_the_configured_threshold() -> None:
    raw = entry("monitoring_stats_anomalies.json")
    body = raw["jsonPayload"]
    del body["@type"]
    body["objective"] = 1  # proto JSON parsers accept enum numbers
    for window in body["featureStats"][0]["predictionStats"]:
        del window["anomalyDetectionThreshold"]  # then the feature's threshold.value holds
    alert = decode_drift(raw)
    assert isinstance(alert, DriftAlert)
    assert [(f.feature, f.kind, f.threshold) for f in alert.features] == [
        ("monthly_charges", "RAW_FEATURE_SKEW", 0.3)
    ]


def test_stats_without_a_feature_over_threshold_are_dismissed() -> None:
    raw = entry("monitoring_stats_anomalies.json")
    raw["jsonPayload"]["featureStats"] = raw["jsonPayload"]["featureStats"][1:]
    raw["jsonPayload"]["anomalyCount"] = 0
    assert isinstance(decode_drift(raw), Dismissed)


def test_v2_log_entry_names_its_model_monitor_in_the_resource_labels() -> None:
    alert = decode_drift(entry("monitoring_v2_log_entry.json"))
    assert isinstance(alert, DriftAlert)
    assert alert.models == ("modelMonitors/4417",)
    assert [(f.feature, f.value, f.threshold) for f in alert.features] == [("contract", 0.27, 0.2)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e["resource"]["labels"].update(model_deployment_monitoring_job="8812"), "8812"),
        (
            lambda e: (e.update(resource={"type": "global"}), e["jsonPayload"].pop(JOB)),
            "missing field jsonPayload.modelDeploymentMonitoringJob",
        ),
        (lambda e: e["resource"]["labels"].update(model_deployment_monitoring_job="a/b"), "labels"),
        (lambda e: e["jsonPayload"].update(featureAnomalies={"x": 1}), "featureAnomalies"),
        (lambda e: e["jsonPayload"]["featureAnomalies"][0].pop("featureDisplayName"), "[0]"),
    ],
)
def test_malformed_docs_example_names_the_field(change: Any, field: str) -> None:
    raw = entry("monitoring_anomaly_notify.json")
    change(raw)
    with pytest.raises(EventError, match=field.replace("[", r"\[").replace("]", r"\]")):
        decode_drift(raw)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update(featureStats="x"), "jsonPayload.featureStats"),
        (lambda b: b["featureStats"][1].update(predictionStats={}), "featureStats[1]"),
        (lambda b: b["featureStats"][0].pop("featureDisplayName"), "featureDisplayName"),
        (lambda b: b.update(objective=9), "jsonPayload.objective"),
        (lambda b: b.update(anomalyCount="-1"), "anomalyCount"),
    ],
)
def test_malformed_stats_name_the_field(change: Any, field: str) -> None:
    raw = entry("monitoring_stats_anomalies.json")
    change(raw["jsonPayload"])
    with pytest.raises(EventError, match=field.replace("[", r"\[").replace("]", r"\]")):
        decode_drift(raw)


def test_a_malformed_entry_is_rejected_under_its_event_id() -> None:
    service, backend, _, _ = make_service()
    body = (GOLDEN / "malformed_monitoring_stats.json").read_bytes()
    [decision] = service.handle("drift", body, "delivery-1")
    assert decision.decision == "rejected" and decision.event_id == "mm-stats-bad"
    assert "jsonPayload.featureStats[0]: predictionStats[0]" in decision.reason
    assert "distributionDeviation" in decision.reason and not backend.jobs


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_the_sink_matches_every_shape_whatever_log_it_is_in(name: str) -> None:
    """No log name is documented for the proto-encoded payloads: the filter keys on the
    payload's type or shape and the monitoring resource, within the project's logs."""
    raw = entry(name)
    sink = drift_alert_filter(PROJECT)
    assert matches(sink, raw)
    moved = copy.deepcopy(raw)
    moved["logName"] = f"projects/{PROJECT}/logs/aiplatform.googleapis.com%2Fother"
    assert matches(sink, moved)
    untyped = copy.deepcopy(moved)
    untyped["jsonPayload"].pop("@type", None)
    assert matches(sink, untyped)
    elsewhere = copy.deepcopy(raw)
    elsewhere["logName"] = raw["logName"].replace(PROJECT, "someone-else")
    assert not matches(sink, elsewhere)
