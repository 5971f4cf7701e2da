"""Policies through the service with in-memory ports: thresholds, windows, limits, drift."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from retrain.errors import TransientError
from retrain.events.envelope import NONCE_ATTRIBUTE, pubsub_body
from retrain.routing.decision import Decision, StdoutLog, log_record
from retrain.routing.jobid import derive_job_id
from tests.fakes.backend import RecordingBackend
from tests.fakes.clock import T0, FakeClock
from tests.routing.helpers import arrival, end_quietly, make_service


def kinds(decisions: list[Decision]) -> list[str]:
    return [d.decision for d in decisions]


def test_rows_accumulate_to_the_threshold_then_one_run() -> None:
    service, backend, _, _ = make_service()
    assert kinds(service.handle("data_arrival", arrival(200, "j1"))) == ["debounced"]
    second = service.handle("data_arrival", arrival(200, "j2", T0 + timedelta(minutes=1)))
    assert second[0].reason == "400 of 500 new rows accumulated"
    third = service.handle("data_arrival", arrival(150, "j3", T0 + timedelta(minutes=2)))
    assert kinds(third) == ["run"] and third[0].reason == "550 new rows (min 500)"
    request = backend.jobs[third[0].job_id]
    assert request.trigger == "data_arrival" and request.event_id == "m-j3"
    assert request.data_window == ""  # the spec has no data.window: every row of the snapshot
    assert request.git_sha.startswith("9b241c8")


def test_one_run_per_debounce_window_rows_kept_for_the_next() -> None:
    clock = FakeClock()
    service, backend, _, _ = make_service(clock=clock)
    assert kinds(service.handle("data_arrival", arrival(600, "j1"))) == ["run"]
    end_quietly(service, backend)  # the run finished
    clock.now = T0 + timedelta(minutes=30)
    held = service.handle("data_arrival", arrival(600, "j2", T0 + timedelta(minutes=30)))
    assert kinds(held) == ["debounced"] and "already started in this 1h window" in held[0].reason
    clock.now = T0 + timedelta(minutes=61)
    later = service.handle("data_arrival", arrival(1, "j3", T0 + timedelta(minutes=61)))
    assert kinds(later) == ["run"] and later[0].reason == "601 new rows (min 500)"
    assert len(backend.jobs) == 2


def test_concurrency_limit_waits_keeping_rows() -> None:
    clock = FakeClock()
    service, backend, _, _ = make_service(clock=clock)
    service.handle("data_arrival", arrival(600, "j1"))
    clock.now = T0 + timedelta(hours=2)
    busy = service.handle("data_arrival", arrival(600, "j2", T0 + timedelta(hours=2)))
    assert kinds(busy) == ["debounced"]
    assert busy[0].reason == "1 run(s) in progress, limit 1; 600 rows kept for later"
    # the first run ends, its completion lost: the wake-up completes it and starts the kept rows
    woken = end_quietly(service, backend)
    assert kinds(woken) == ["run", "completed"] and woken[0].reason.startswith("wake-up: 600 new")
    assert len(backend.jobs) == 2


def test_redelivery_replays_the_first_answer() -> None:
    clock = FakeClock()
    service, backend, _, _ = make_service(clock=clock)
    body = arrival(600, "j1")
    first = service.handle("data_arrival", body)
    again = service.handle("data_arrival", body)
    assert kinds(first) == ["run"] and kinds(again) == ["deduplicated"]
    assert again[0].job_id == first[0].job_id and len(backend.jobs) == 1
    end_quietly(service, backend)
    clock.now = T0 + timedelta(hours=5)
    small = arrival(10, "j2", T0 + timedelta(hours=5))
    service.handle("data_arrival", small)
    replay = service.handle("data_arrival", small)
    assert replay[0].reason == "seen before: debounced: 10 of 500 new rows accumulated"


def test_same_write_logged_twice_under_other_message_ids_counts_once() -> None:
    service, _, _, _ = make_service()
    service.handle("data_arrival", arrival(300, "j1", message_id="a"))
    again = service.handle("data_arrival", arrival(300, "j1", message_id="b"))
    assert kinds(again) == ["deduplicated"]


def test_transient_backend_error_raises_then_redelivery_runs() -> None:
    service, backend, _, _ = make_service(backend=RecordingBackend(transient_failures=1))
    body = arrival(600, "j1")
    with pytest.raises(TransientError):
        service.handle("data_arrival", body)
    retried = service.handle("data_arrival", body)
    assert kinds(retried) == ["run"] and retried[0].reason.startswith("resubmitted")
    assert len(backend.jobs) == 1


def test_explicit_nonce_is_the_way_to_rerun() -> None:
    service, backend, _, _ = make_service()
    first = service.handle("data_arrival", arrival(600, "j1"))
    end_quietly(service, backend)
    entry = arrival(600, "j1")
    rerun = service.handle(
        "data_arrival", pubsub_body(_payload(entry), "m-rerun", {NONCE_ATTRIBUTE: "take-2"})
    )
    assert kinds(rerun) == ["run"] and rerun[0].job_id != first[0].job_id


def _payload(body: dict[str, object]) -> dict[str, object]:
    from retrain.events.envelope import unwrap

    return unwrap(body).payload


def test_drift_actions_and_idempotency() -> None:
    service, backend, _, _ = make_service()
    alert = pubsub_body(
        {
            "spec": "churn",
            "run_id": "r1",
            "anomalies": {"anomalyInfo": {"x": {"reason": [{"type": "SCHEMA_NEW_COLUMN"}]}}},
        },
        "d1",
        {},
        publish_time="2026-03-02T09:59:00Z",
    )
    assert kinds(service.handle("drift", alert)) == ["run"]
    assert kinds(service.handle("drift", alert)) == ["deduplicated"]  # its run is in progress
    backend.active.clear()
    assert kinds(service.handle("drift", alert)) == ["deduplicated"]  # ALREADY_EXISTS
    assert len(backend.jobs) == 1
    info = {"y": {"reason": [{"type": "SCHEMA_NEW_COLUMN"}]}}
    notify = {"spec": "house-prices", "run_id": "r2", "anomalies": {"anomalyInfo": info}}
    decided = service.handle("drift", notify)
    assert kinds(decided) == ["ignored"] and decided[0].alert
    assert log_record(decided[0])["severity"] == "WARNING"


def test_job_ids_are_deterministic_valid_and_nonce_sensitive() -> None:
    a = derive_job_id("house-prices", "abc", "data_arrival", "window:1")
    assert a == derive_job_id("house-prices", "abc", "data_arrival", "window:1")
    assert re.fullmatch(r"[a-z][a-z0-9-]{0,127}", a) and a.startswith("house-prices-data-")
    others = {
        derive_job_id("house-prices", "abd", "data_arrival", "window:1"),
        derive_job_id("house-prices", "abc", "drift", "window:1"),
        derive_job_id("house-prices", "abc", "data_arrival", "window:2"),
        derive_job_id("house-prices", "abc", "data_arrival", "window:1", nonce="n"),
    }
    assert a not in others and len(others) == 4


def test_decision_log_lines_are_cloud_logging_json() -> None:
    stream = io.StringIO()
    service, _, _, _ = make_service()
    decision = service.handle("data_arrival", arrival(600, "j1"))[0]
    at = datetime(2026, 12, 2, 6, 30, 5, 123000, tzinfo=timezone.utc)
    StdoutLog(stream, clock=lambda: at).record(decision)
    line = json.loads(stream.getvalue())
    assert line["time"] == "2026-12-02T06:30:05.123+00:00"  # Cloud Logging's `time` field
    assert line["severity"] == "NOTICE"
    assert line["message"] == f"data_arrival run churn {decision.job_id}: 600 new rows (min 500)"
    assert (line["event_id"], line["spec"], line["job_id"]) == ("m-j1", "churn", decision.job_id)
    assert line["logging.googleapis.com/labels"] == {
        "retrain-event": "data_arrival",
        "retrain-decision": "run",
    }


def test_a_run_of_a_spec_with_a_data_window_carries_the_window_it_reads(tmp_path: Path) -> None:
    import shutil

    from retrain.routing.index import load_index
    from tests.routing.helpers import SPECS

    shutil.copytree(SPECS, tmp_path / "specs")
    churn = tmp_path / "specs" / "churn.yaml"
    text = churn.read_text().replace(
        "  local:\n", "  window: 30d\n  time_column: signup_at\n  local:\n", 1
    )
    churn.write_text(text)
    service, backend, _, _ = make_service(index=load_index(tmp_path / "specs"))
    (decision,) = service.handle("data_arrival", arrival(600, "j1"))
    assert decision.decision == "run"
    request = backend.jobs[decision.job_id]
    end = T0.strftime("%Y-%m-%dT%H:%M:%SZ")
    start = (T0 - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert request.data_snapshot == end
    assert request.parameters()["data_window"] == f"{start}/{end}"


def test_a_stored_claim_from_before_still_loads() -> None:
    """Claims once carried the debounce window as `data_window`; Firestore may still hold one."""
    from retrain.state.base import SpecState

    claim = {"job_id": "churn-x", "rows": 1, "events": 1, "window": 7, "version": "v"}
    old = {**claim, "claimed_at": T0.isoformat(), "data_window": "2026-03-02T10:00:00Z/x"}
    state = SpecState.model_validate({"claims": [old]})
    assert state.claims[0].job_id == "churn-x" and state.claims[0].window == 7
