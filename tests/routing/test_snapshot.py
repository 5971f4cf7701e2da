"""Pinned data: a run's snapshot is fixed when the run is decided, and travels with it."""

from __future__ import annotations

from datetime import timedelta

from tests.fakes.clock import T0, FakeClock
from tests.routing.helpers import arrival, make_service, tick


def test_a_data_run_reads_as_of_its_decision_and_a_resubmit_agrees() -> None:
    clock = FakeClock(T0 + timedelta(minutes=3, seconds=7, microseconds=5))
    service, backend, _, _ = make_service(clock=clock)
    (decision,) = service.handle("data_arrival", arrival(600, "j1"))
    request = backend.jobs[decision.job_id]
    assert request.data_snapshot == "2026-03-02T10:03:07Z"
    assert request.parameters()["data_snapshot"] == "2026-03-02T10:03:07Z"
    assert request.labels()["retrain-snapshot"] == "2026-03-02t10-03-07z"
    clock.advance(timedelta(hours=2))  # the same delivery again, later: same claim, same rows
    service.handle("data_arrival", arrival(600, "j1"))
    assert {r.data_snapshot for r in backend.calls} == {"2026-03-02T10:03:07Z"}


def test_a_scheduled_run_reads_as_of_its_tick() -> None:
    service, backend, _, _ = make_service()
    (decision,) = service.handle("schedule", tick(published="2026-03-02T05:00:00.412Z"))
    assert decision.decision == "run"
    assert backend.jobs[decision.job_id].data_snapshot == "2026-03-02T05:00:00Z"
