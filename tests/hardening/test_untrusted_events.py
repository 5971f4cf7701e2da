"""Data entries and drift alerts that should not start a run: each is ignored or rejected with
a reason, and drift-triggered runs are debounced like data arrivals."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from retrain.events.bigquery import table_data_change_entry
from retrain.events.envelope import pubsub_body, unwrap
from tests.fakes.clock import T0
from tests.routing.helpers import CHURN_TABLE, make_service

GOLDEN = Path(__file__).parents[1] / "golden" / "events"
MONITORING = unwrap(json.loads((GOLDEN / "monitoring_anomaly.json").read_text())).payload


def data_entry(**changes: Any) -> dict[str, Any]:
    entry = table_data_change_entry(CHURN_TABLE, 600, "job-1", T0)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = entry
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return entry


def decisions(kind: Any, data: Any) -> tuple[list[tuple[str, str]], int]:
    service, backend, _, _ = make_service()
    answers = service.handle(kind, data, "e1")
    return [(d.decision, d.reason) for d in answers], len(backend.jobs)


def test_a_failed_job_status_is_ignored() -> None:
    entry = data_entry(protoPayload__status={"code": 7, "message": "Access Denied"})
    assert decisions("data_arrival", entry) == (
        [("ignored", "job failed: Access Denied (code 7)")],
        0,
    )


def test_a_resource_name_for_another_table_than_the_entrys_is_rejected() -> None:
    entry = data_entry(resource__labels={"project_id": "acme-analytics", "dataset_id": "hr"})
    assert decisions("data_arrival", entry) == (
        [
            (
                "rejected",
                f"resourceName names {CHURN_TABLE}, but the entry is about dataset_id 'hr'",
            )
        ],
        0,
    )


@pytest.mark.parametrize("rows", ["٤٢٠٠", "1,000", "1_000", " 900", "+900", "1" + "0" * 40, 10**40])
def test_row_counts_must_be_ascii_int64(rows: Any) -> None:
    entry = data_entry(protoPayload__metadata__tableDataChange__insertedRowsCount=rows)
    (answer,), jobs = decisions("data_arrival", entry)
    assert answer[0] == "rejected" and jobs == 0
    assert answer[1].startswith("field insertedRowsCount is "), answer


def test_an_object_as_message_id_is_rejected() -> None:
    body = pubsub_body(data_entry(), "m-1", {})
    body["message"]["messageId"] = {"$gt": ""}
    assert decisions("data_arrival", body) == (
        [("rejected", "Pub/Sub message messageId is a dict, not a string")],
        0,
    )


def alert(*anomalies: dict[str, Any], time: str = "2026-03-03T06:00:00Z") -> dict[str, Any]:
    entry = copy.deepcopy(MONITORING)
    entry["jsonPayload"]["featureAnomalies"] = list(anomalies)
    entry["timestamp"] = time
    return entry


def test_drift_on_a_feature_the_spec_does_not_have_is_ignored() -> None:
    entry = alert({"featureDisplayName": "salary", "threshold": 0.3, "deviation": 0.9})
    assert decisions("drift", entry) == (
        [("ignored", "no feature of churn drifted over its threshold: salary (RAW_FEATURE_DRIFT)")],
        0,
    )


def test_drift_below_its_threshold_is_ignored() -> None:
    entry = alert({"featureDisplayName": "country", "threshold": 0.3, "deviation": 0.1})
    (answer,), jobs = decisions("drift", entry)
    assert answer[0] == "ignored" and "no feature of churn drifted" in answer[1] and jobs == 0


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (float("nan"), "field deviation is not a finite number: nan"),
        ("0.9", "field deviation is not a number: '0.9'"),
        ("NaN", "field deviation is not a number: 'NaN'"),
    ],
)
def test_a_measurement_that_is_not_a_number_is_rejected(value: Any, reason: str) -> None:
    entry = alert({"featureDisplayName": "country", "threshold": 0.3, "deviation": value})
    assert decisions("drift", entry) == ([("rejected", reason)], 0)


def test_drift_runs_are_debounced_like_data_arrivals() -> None:
    service, backend, _, _ = make_service()
    drifting = {"featureDisplayName": "country", "threshold": 0.3, "deviation": 0.5}
    start = T0 + timedelta(hours=20)
    times = [start, start + timedelta(minutes=20), start + timedelta(minutes=40)]
    times.append(start + timedelta(hours=2))
    answers: list[str] = []
    for n, when in enumerate(times):
        entry = alert(drifting, time=when.isoformat().replace("+00:00", "Z"))
        entry["insertId"] = f"mm-{n}"
        entry["jsonPayload"]["modelMonitoringJob"] = f"job-{n}"  # four distinct alerts
        answers.extend(d.decision for d in service.handle("drift", entry, f"e{n}"))
        for job in list(backend.active):
            backend.finish(job)  # not the concurrency limit: the debounce window decides
    assert answers == ["run", "deduplicated", "deduplicated", "run"]
    assert len(backend.jobs) == 2
