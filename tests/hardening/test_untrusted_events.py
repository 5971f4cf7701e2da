"""Data entries and drift alerts that should not start a run: each is ignored or rejected with
a reason, and drift-triggered runs are debounced like data arrivals."""

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from retrain.events.bigquery import table_data_change_entry
from retrain.events.envelope import pubsub_body, unwrap
from tests.fakes.clock import T0, FakeClock
from tests.routing.helpers import CHURN_TABLE, arrival, make_service

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


NOW = T0 + timedelta(days=1)  # after the events below


def decisions(kind: Any, data: Any, now: Any = NOW) -> tuple[list[tuple[str, str]], int]:
    service, backend, _, _ = make_service(clock=FakeClock(now))
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
        (
            float("nan"),
            "jsonPayload.featureAnomalies[0]: field deviation is not a finite number: nan",
        ),
        ("0.9", "jsonPayload.featureAnomalies[0]: field deviation is not a number: '0.9'"),
        ("NaN", "jsonPayload.featureAnomalies[0]: field deviation is not a number: 'NaN'"),
    ],
)
def test_a_measurement_that_is_not_a_number_is_rejected(value: Any, reason: str) -> None:
    entry = alert({"featureDisplayName": "country", "threshold": 0.3, "deviation": value})
    assert decisions("drift", entry) == ([("rejected", reason)], 0)


def test_drift_runs_are_debounced_like_data_arrivals() -> None:
    service, backend, _, _ = make_service(clock=FakeClock(NOW))
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


# -- issue 25, finding 3: time is bounded by now ------------------------------------------------


def _at(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def test_one_future_dated_arrival_cannot_freeze_retraining() -> None:
    """An entry dated 2999 once set the debounce window: every genuine arrival after it was
    'debounced' until the year 2999."""
    from retrain.routing.policy import CLOCK_SKEW

    clock = FakeClock(T0)
    service, backend, _, _ = make_service(clock=clock)
    future = datetime(2999, 1, 1, tzinfo=timezone.utc)
    (refused,) = service.handle("data_arrival", arrival(600, "evil", future), "e0")
    assert refused.decision == "rejected" and "2999-01-01T00:00:00Z is after now" in refused.reason
    assert f"{int(CLOCK_SKEW.total_seconds() // 60)} minutes" in refused.reason
    assert backend.jobs == {}
    ran = []
    for day in range(30):  # 25,000 rows over 30 days: runs, as with no forged entry
        clock.now = T0 + timedelta(days=day)
        for answer in service.handle("data_arrival", arrival(834, f"j{day}", clock.now)):
            ran.append(answer.decision)
        backend.active.clear()
    assert ran.count("run") == 30, ran


def test_a_time_within_the_skew_is_taken_as_now_so_windows_never_move_past_it() -> None:
    """A clock 4 minutes ahead is accepted, but its window is now's: the next window's genuine
    arrival still runs."""
    clock = FakeClock(T0 + timedelta(minutes=58))  # 10:58, a 1h debounce
    service, backend, _, _ = make_service(clock=clock)
    ahead = T0 + timedelta(hours=1, minutes=2)  # 11:02, the next window
    assert [d.decision for d in service.handle("data_arrival", arrival(600, "a", ahead))] == ["run"]
    backend.active.clear()
    clock.now = T0 + timedelta(hours=1, minutes=1)  # 11:01: the next window has come
    later = service.handle("data_arrival", arrival(600, "b", clock.now))
    assert [d.decision for d in later] == ["run"], later[0].reason


def test_a_window_recorded_past_now_before_the_fix_holds_nothing_back() -> None:
    from retrain.events.types import DataArrival
    from retrain.routing.policy import data_step, window_of
    from retrain.spec.model import DataArrivalPolicy
    from retrain.state.base import SpecState

    policy = DataArrivalPolicy(min_new_rows=500, debounce="1h")
    frozen = SpecState(last_window=window_of(datetime(2999, 1, 1, tzinfo=timezone.utc), "1h"))
    event = DataArrival(table=CHURN_TABLE, rows=600, key="k", time=T0, source="bigquery-v2")
    step = data_step(policy, spec="churn", version="v", event=event, running=[], now=T0)
    assert step(frozen, None).record.decision == "run"


def _tfdv(info: Any, time: str) -> dict[str, Any]:
    body = {"spec": "churn", "run_id": f"r-{time}", "anomalies": {"anomalyInfo": info}}
    return pubsub_body(body, f"d-{time}", {}, publish_time=_at(NOW))


GOOD_INFO = {"country": {"reason": [{"type": "ENUM_TYPE_UNEXPECTED_STRING_VALUES"}]}}


def test_drift_alerts_from_the_future_are_refused_and_too_old_ones_dismissed() -> None:
    future = {**MONITORING, "timestamp": "2999-01-01T00:00:00Z"}
    (answer,), jobs = decisions("drift", future)
    assert answer[0] == "rejected" and "is after now" in answer[1] and jobs == 0
    for old in ("1970-01-01T00:00:01Z", _at(NOW - timedelta(days=8))):
        (answer,), jobs = decisions("drift", {**MONITORING, "timestamp": old})
        assert answer[0] == "ignored" and "too old to act on, dismissed" in answer[1], old
        assert jobs == 0
    entry = _tfdv(GOOD_INFO, "x")
    body = json.loads(base64.b64decode(entry["message"]["data"]))
    body["timestamp"] = _at(NOW - timedelta(days=8))
    entry["message"]["data"] = base64.b64encode(json.dumps(body).encode()).decode()
    (answer,), jobs = decisions("drift", entry)
    assert answer[0] == "ignored" and "too old" in answer[1] and jobs == 0


def test_a_recent_tfdv_alert_still_runs() -> None:
    (answer,), jobs = decisions("drift", _tfdv(GOOD_INFO, "ok"))
    assert answer[0] == "run" and jobs == 1


@pytest.mark.parametrize(
    ("info", "where"),
    [
        ({"country": "new values"}, "anomalies.anomalyInfo.'country' is not an object"),
        ({"country": {}}, "anomalies.anomalyInfo.'country'.reason is not a non-empty list"),
        ({"country": {"reason": []}}, ".reason is not a non-empty list"),
        ({"country": {"reason": "SCHEMA_NEW_COLUMN"}}, ".reason is not a non-empty list"),
        ({"country": {"reason": [{"type": 7}]}}, ".reason[0].type is not an anomaly type: 7"),
        ({"country": {"reason": [{}]}}, ".reason[0].type is not an anomaly type: None"),
        ({"country": {"reason": ["SCHEMA_NEW_COLUMN"]}}, ".reason[0].type is not an anomaly"),
        ({"country": {"reason": [{"type": "x\u2028y"}]}}, ".reason[0].type is not an anomaly"),
    ],
)
def test_malformed_tfdv_anomaly_info_is_rejected_never_run(info: Any, where: str) -> None:
    (answer,), jobs = decisions("drift", _tfdv(info, "bad"))
    assert answer[0] == "rejected" and where in answer[1], answer
    assert jobs == 0
