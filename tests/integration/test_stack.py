"""The whole local chain on real emulators: a message published to the Pub/Sub emulator is
pushed into a functions-framework server, which counts rows in Firestore, starts a local run,
whose end is published to the completion topic and pushed into on_run_complete."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from retrain.events.bigquery import table_data_change_entry
from retrain.events.envelope import pubsub_body
from retrain.google.firestore import FirestoreStore
from retrain.google.pubsub import PubSubPublisher
from retrain.localstack.stack import LocalStack
from retrain.topics import TOPICS
from tests.fakes.backend import RecordingBackend
from tests.fakes.clock import FakeClock
from tests.routing.helpers import CHURN_TABLE, make_service, tick_flush
from tests.routing.test_storm import run_rows, storm

pytestmark = pytest.mark.emulator


def decisions_in(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"decision"' in line:
            found.append(json.loads(line))
    return found


def wait_for(log: Path, predicate: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in decisions_in(log):
            if predicate(record):
                return record
        time.sleep(0.2)
    raise AssertionError(f"no matching decision in {log}:\n{log.read_text()[-3000:]}")


def test_data_arrival_to_local_run_to_completion(stack: LocalStack) -> None:
    publisher = PubSubPublisher(stack.config.project)
    job = f"it-{uuid.uuid4().hex[:8]}"
    entry = table_data_change_entry(CHURN_TABLE, 800, job, datetime.now(timezone.utc))
    publisher.publish(TOPICS["on_data_arrival"], entry, {})
    publisher.publish(TOPICS["on_data_arrival"], entry, {})  # a duplicate publish
    run = wait_for(stack.procs["on_data_arrival"].log, lambda r: r["decision"] == "run")
    assert run["spec"] == "churn" and run["severity"] == "NOTICE"
    dup = wait_for(stack.procs["on_data_arrival"].log, lambda r: r["decision"] == "deduplicated")
    assert dup["job_id"] == run["job_id"]
    done = wait_for(
        stack.procs["on_run_complete"].log,
        lambda r: r["decision"] == "completed" and r["job_id"] == run["job_id"],
    )
    assert done["reason"] == "succeeded"
    summaries = stack.config.workdir.resolve() / "churn/pipeline_root/summaries"
    passed = json.loads((summaries / run["job_id"] / "args.json").read_text())
    assert passed["trigger"] == "data_arrival" and passed["git_sha"] == "9b241c8"


def test_schedule_tick_to_local_run_to_completion(stack: LocalStack) -> None:
    """What a Cloud Scheduler job publishes, through the retrain-schedule push subscription."""
    tick = {"spec": "churn", "schedule": "0 5 * * 1", "git_sha": "0000000"}
    PubSubPublisher(stack.config.project).publish(
        TOPICS["on_schedule"], tick, {"retrain-spec": "churn"}
    )
    run = wait_for(stack.procs["on_schedule"].log, lambda r: r["decision"] == "run")
    assert run["spec"] == "churn" and run["event_key"].startswith("minute:")
    done = wait_for(
        stack.procs["on_run_complete"].log,
        lambda r: r["decision"] == "completed" and r["job_id"] == run["job_id"],
    )
    assert done["reason"] == "succeeded"
    summaries = stack.config.workdir.resolve() / "churn/pipeline_root/summaries"
    passed = json.loads((summaries / run["job_id"] / "args.json").read_text())
    assert passed["trigger"] == "schedule" and passed["git_sha"] == "9b241c8"


def test_malformed_message_is_acknowledged_not_dead_lettered(stack: LocalStack) -> None:
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    client = pubsub_v1.PublisherClient()
    topic = client.topic_path(stack.config.project, TOPICS["on_drift_alert"])
    client.publish(topic, b"\x00 not json").result(timeout=30)
    rejected = wait_for(stack.procs["on_drift_alert"].log, lambda r: r["decision"] == "rejected")
    assert "not JSON" in rejected["reason"]
    time.sleep(1.0)
    records = decisions_in(stack.procs["on_drift_alert"].log)
    assert [r["decision"] for r in records].count("rejected") == 1


def test_redelivery_storm_on_firestore_every_row_in_exactly_one_run(stack: LocalStack) -> None:
    """Few messages, many deliveries, four at a time: state on the Firestore emulator. Rows
    of windows overtaken by a later one wait for the wake-up; none is counted twice."""
    store = FirestoreStore(project=stack.config.project, prefix=f"storm{uuid.uuid4().hex[:6]}")
    backend = RecordingBackend(finish_at_once=True)
    start = datetime(2026, 3, 2, tzinfo=timezone.utc)
    clock = FakeClock(start + timedelta(hours=6))
    service, _, log, _ = make_service(store=store, backend=backend, clock=clock)
    entries = [
        table_data_change_entry(CHURN_TABLE, 600, f"s-{i}", start + timedelta(hours=2 * i))
        for i in range(3)
    ]
    bodies = [pubsub_body(entry, f"m{i}", {}) for i, entry in enumerate(entries)]
    kinds = storm(service, bodies, copies=8, workers=4)
    assert len(kinds) == 24 == len(log.decisions)
    assert set(kinds) <= {"run", "deduplicated", "debounced"}
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        service.handle("schedule", tick_flush(clock.now))
    assert run_rows(log.decisions) == 1800
    assert len(backend.jobs) == sum(d.decision == "run" for d in log.decisions)


def test_firestore_counts_rows_across_events(stack: LocalStack) -> None:
    store = FirestoreStore(project=stack.config.project, prefix=f"count{uuid.uuid4().hex[:6]}")
    service, backend, _, _ = make_service(store=store)
    start = datetime(2026, 3, 2, tzinfo=timezone.utc)
    for i, rows in enumerate((200, 200, 150)):
        entry = table_data_change_entry(CHURN_TABLE, rows, f"c-{i}", start + timedelta(minutes=i))
        decided = service.handle("data_arrival", pubsub_body(entry, f"c{i}", {}))
    assert decided[0].decision == "run" and decided[0].reason == "550 new rows (min 500)"
    assert len(backend.jobs) == 1
