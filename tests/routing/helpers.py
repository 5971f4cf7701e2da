"""Builders shared by the routing tests (a plain module, not fixtures, so calls are explicit)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from retrain.events.bigquery import table_data_change_entry
from retrain.events.envelope import pubsub_body
from retrain.routing.decision import MemoryLog
from retrain.routing.index import SpecIndex, load_index
from retrain.routing.service import Service
from retrain.runs import RunOutcome
from retrain.state.base import StateStore
from retrain.state.memory import MemoryStore
from tests.fakes.backend import RecordingBackend

SPECS = Path(__file__).parents[1] / "golden" / "events" / "specs"
CHURN_TABLE = "acme-analytics.crm.customers"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


class RecordingSink:
    def __init__(self) -> None:
        self.outcomes: list[RunOutcome] = []

    def handle(self, outcome: RunOutcome) -> None:
        self.outcomes.append(outcome)


def make_service(
    index: SpecIndex | None = None,
    store: StateStore | None = None,
    backend: RecordingBackend | None = None,
    sink: RecordingSink | None = None,
) -> tuple[Service, RecordingBackend, MemoryLog, RecordingSink]:
    index = index or load_index(SPECS)
    backend = backend or RecordingBackend()
    sink = sink or RecordingSink()
    log = MemoryLog()
    service = Service(
        index=lambda: index,
        store=store or MemoryStore(),
        backend=backend,
        sink=lambda: sink,
        log=log,
        git_sha="9b241c8d31745115ca281886361fc70f565f071f",
    )
    return service, backend, log, sink


def arrival(
    rows: int, job: str, time: datetime = T0, table: str = CHURN_TABLE, message_id: str = ""
) -> dict[str, Any]:
    """A Pub/Sub push body carrying a v2 audit entry for `rows` appended by BigQuery job `job`."""
    return pubsub_body(
        table_data_change_entry(table, rows, job, time), message_id or f"m-{job}", {}
    )


def tick(
    spec: str = "churn",
    published: str = "2026-03-02T05:00:00.412Z",
    message_id: str = "t-1",
    attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Pub/Sub push body carrying the tick a Cloud Scheduler job publishes for `spec`."""
    payload = {"spec": spec, "schedule": "0 5 * * 1", "git_sha": "0000000"}
    attrs = {"retrain-spec": spec} if attributes is None else attributes
    return pubsub_body(payload, message_id, attrs, publish_time=published)
