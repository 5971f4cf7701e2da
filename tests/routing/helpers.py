"""Builders shared by the routing tests (a plain module, not fixtures, so calls are explicit)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from retrain.backends.base import JobInfo, ProductionRuns
from retrain.baseline import no_baseline
from retrain.completion.notices import NoNotices, NoticeSink
from retrain.errors import EventError
from retrain.events.bigquery import table_data_change_entry
from retrain.events.envelope import pubsub_body, unwrap
from retrain.events.pipeline_job import decode_state_change, state_change_entry
from retrain.events.schedule import FLUSH_BODY
from retrain.events.types import RunStateChange
from retrain.routing.decision import Decision, DecisionLog, MemoryLog
from retrain.routing.index import SpecIndex, load_index
from retrain.routing.policy import SETTLE
from retrain.routing.service import Service
from retrain.runs import Baseline
from retrain.spec import Spec
from retrain.state.base import StateStore
from retrain.state.memory import MemoryStore
from tests.fakes.backend import KnownJobsBackend, RecordingBackend
from tests.fakes.clock import T0, FakeClock
from tests.fakes.sink import RecordingSink

SPECS = Path(__file__).parents[1] / "golden" / "events" / "specs"
CHURN_TABLE = "acme-analytics.crm.customers"
# What RecordingBackend reports for the jobs the service submitted: no identity, no registry
# template, output under /runs/<spec>.
PRODUCTION = ProductionRuns("", lambda spec: f"/runs/{spec}")


def job_of(entry: dict[str, Any]) -> JobInfo:
    """The backend's record of the job a genuine state-change entry reports."""
    change = decode_state_change(entry)
    assert isinstance(change, RunStateChange)
    return JobInfo(
        job_id=change.job_id,
        state=change.state,
        labels=change.labels,
        pipeline_root=change.pipeline_root,
        error=change.error,
    )


def backend_that_ran(*deliveries: Path) -> KnownJobsBackend:
    """A backend that ran the jobs these golden run_complete deliveries report (the others,
    malformed or unfinished, name no job)."""
    known = {}
    for path in deliveries:
        try:
            job = job_of(unwrap(json.loads(path.read_text())).payload)
        except (AssertionError, EventError):
            continue
        if "retrain-spec" in job.labels:
            known[job.job_id] = job
    return KnownJobsBackend(known)


def make_service(
    index: SpecIndex | None = None,
    store: StateStore | None = None,
    backend: RecordingBackend | None = None,
    sink: RecordingSink | None = None,
    clock: FakeClock | None = None,
    *,
    notices: NoticeSink | None = None,
    baselines: Callable[[Spec], Baseline] = no_baseline,
    log: DecisionLog | None = None,
    production: ProductionRuns = PRODUCTION,
) -> tuple[Service, RecordingBackend, MemoryLog, RecordingSink]:
    """A service on recording fakes. With `log`, decisions go there and the returned
    MemoryLog stays empty."""
    index = index or load_index(SPECS)
    backend = backend or RecordingBackend()
    sink = sink or RecordingSink()
    memory = MemoryLog()
    clock = clock or FakeClock()
    service = Service(
        index=lambda: index,
        store=store or MemoryStore(clock),
        backend=backend,
        sink=lambda: sink,
        log=log or memory,
        git_sha="9b241c8d31745115ca281886361fc70f565f071f",
        clock=clock,
        notices=(lambda: notices) if notices is not None else NoNotices,
        baselines=baselines,
        production=production,
    )
    return service, backend, memory, sink


def end_quietly(service: Service, backend: RecordingBackend) -> list[Decision]:
    """Every run in progress ends and its completion event is lost: once SETTLE has passed,
    the wake-up asks the backend and completes them (its decisions are returned)."""
    backend.active.clear()
    clock = service.clock
    assert isinstance(clock, FakeClock)
    clock.advance(SETTLE)
    return service.handle("schedule", tick_flush(clock.now))


def completion(
    backend: RecordingBackend, job_id: str, state: str = "PIPELINE_STATE_SUCCEEDED"
) -> dict[str, Any]:
    """The push body of the state-change entry Vertex's log sink forwards when `job_id` ends."""
    entry = state_change_entry(
        project="acme-ml",
        location="us-central1",
        job_id=job_id,
        state=state,
        labels=backend.jobs[job_id].labels(),
        pipeline_root=f"/runs/{backend.jobs[job_id].spec}",
        time=T0,
        error="" if state == "PIPELINE_STATE_SUCCEEDED" else "trainer: exit 1",
        failed_task="" if state == "PIPELINE_STATE_SUCCEEDED" else "Trainer",
    )
    return pubsub_body(entry, f"done-{job_id}", {})


def end_runs(
    service: Service, backend: RecordingBackend, state: str = "PIPELINE_STATE_SUCCEEDED"
) -> list[Decision]:
    """Every run in progress ends and its completion event reaches the service."""
    decisions = []
    for job_id in sorted(backend.active):
        backend.finish(job_id)
        decisions += service.handle("run_complete", completion(backend, job_id, state))
    return decisions


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


def tick_flush(published: datetime = T0, message_id: str = "") -> dict[str, Any]:
    """A Pub/Sub push body carrying the wake-up tick (`retrain-flush` in Terraform)."""
    stamp = published.isoformat().replace("+00:00", "Z")
    return pubsub_body(FLUSH_BODY, message_id or f"flush-{stamp}", {}, publish_time=stamp)
