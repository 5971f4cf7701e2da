"""Schedule ticks through the service on in-memory ports: one run per tick, whatever the copies."""

from __future__ import annotations

from retrain.events.envelope import NONCE_ATTRIBUTE
from retrain.routing.decision import Decision
from retrain.routing.index import load_index
from retrain.routing.jobid import derive_job_id
from tests.fakes.backend import RecordingBackend, RefusingBackend
from tests.routing.helpers import SPECS, make_service, tick


def kinds(decisions: list[Decision]) -> list[str]:
    return [d.decision for d in decisions]


def test_a_tick_runs_its_spec_under_the_deployed_commit() -> None:
    service, backend, log, _ = make_service()
    (decision,) = service.handle("schedule", tick(), "ce-1")
    version = load_index(SPECS).version("churn")
    expected_id = derive_job_id("churn", version, "schedule", "minute:2026-03-02T05:00Z")
    assert (decision.decision, decision.spec, decision.job_id) == ("run", "churn", expected_id)
    assert decision.event == "schedule" and decision.event_key == "minute:2026-03-02T05:00Z"
    request = backend.jobs[expected_id]
    assert request.trigger == "schedule" and request.event_id == "t-1"
    assert request.git_sha == service.git_sha != "0000000"  # not the tick's sync-time sha
    assert request.labels()["retrain-trigger"] == "schedule"
    assert log.decisions == [decision]


def test_duplicate_deliveries_of_one_tick_start_one_run() -> None:
    service, backend, _, _ = make_service()
    assert kinds(service.handle("schedule", tick())) == ["run"]
    redelivered = service.handle("schedule", tick())  # same message again
    retried = service.handle("schedule", tick(published="2026-03-02T05:00:42Z", message_id="t-2"))
    assert kinds(redelivered) == kinds(retried) == ["deduplicated"]
    assert redelivered[0].reason == "this tick's run is in progress"
    assert len(backend.jobs) == 1


def test_a_copy_after_the_run_finished_collides_on_already_exists() -> None:
    service, backend, _, _ = make_service(backend=RecordingBackend(finish_at_once=True))
    first = service.handle("schedule", tick())
    again = service.handle("schedule", tick(message_id="t-2"))
    assert kinds(first) + kinds(again) == ["run", "deduplicated"]
    assert again[0].reason == f"job {first[0].job_id} already exists (churn)"
    assert len(backend.calls) == 2 and len(backend.jobs) == 1


def test_next_tick_while_busy_is_ignored_then_runs_when_free() -> None:
    service, backend, _, _ = make_service()
    (first,) = service.handle("schedule", tick())
    (busy,) = service.handle("schedule", tick(published="2026-03-09T05:00:01Z", message_id="t-2"))
    assert busy.decision == "ignored" and busy.spec == "churn"
    assert busy.reason.startswith("1 run(s) in progress, limit 1: schedule 0 5 * * 1")
    backend.finish(first.job_id)
    (later,) = service.handle("schedule", tick(published="2026-03-16T05:00:01Z", message_id="t-3"))
    assert later.decision == "run" and later.job_id != first.job_id
    assert len(backend.jobs) == 2


def test_stale_scheduler_jobs_are_ignored_with_a_reason() -> None:
    service, backend, _, _ = make_service()
    (gone,) = service.handle("schedule", tick(spec="fraud"))
    assert (gone.decision, gone.spec) == ("ignored", "")
    assert gone.reason == "no spec 'fraud' (a stale Cloud Scheduler job)"
    (unscheduled,) = service.handle("schedule", tick(spec="house-prices"))
    assert (unscheduled.decision, unscheduled.spec) == ("ignored", "house-prices")
    assert "no schedule trigger" in unscheduled.reason
    assert backend.calls == []


def test_a_rerun_nonce_starts_a_fresh_run_for_the_same_tick() -> None:
    service, backend, _, _ = make_service(backend=RecordingBackend(finish_at_once=True))
    (first,) = service.handle("schedule", tick())
    (rerun,) = service.handle(
        "schedule", tick(attributes={"retrain-spec": "churn", NONCE_ATTRIBUTE: "again"})
    )
    assert kinds([first, rerun]) == ["run", "run"] and first.job_id != rerun.job_id
    assert len(backend.jobs) == 2


def test_malformed_ticks_are_rejected_and_acknowledged() -> None:
    service, backend, log, _ = make_service()
    (decision,) = service.handle(
        "schedule", tick(spec="churn", attributes={"retrain-spec": "x"}), "e"
    )
    assert decision.decision == "rejected" and "attribute says 'x'" in decision.reason
    assert log.decisions == [decision] and backend.calls == []


def test_a_backend_refusing_for_good_is_rejected_naming_the_spec() -> None:
    service, backend, _, _ = make_service(
        backend=RefusingBackend("permission denied on the pipeline template")
    )
    (decision,) = service.handle("schedule", tick())
    assert (decision.decision, decision.spec, decision.event_key) == (
        "rejected",
        "churn",
        "minute:2026-03-02T05:00Z",
    )
    assert decision.reason == "backend refused: permission denied on the pipeline template"
    assert len(backend.calls) == 1 and backend.jobs == {}
