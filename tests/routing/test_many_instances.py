"""Many instances, one truth (issue 26): a redelivery writes nothing while a claim's holder is
alive, exactly one instance takes a free claim over, leases are measured by the store's clock,
an existing job refused on resubmit is still the claim's run, and nothing ends silently (a
lost completion, a run that never ends, a code host that is down)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from retrain.errors import BackendError, TransientError
from retrain.routing.policy import LEASE, SETTLE
from retrain.routing.service import Service
from retrain.runs import RunOutcome, RunRequest
from retrain.state.base import Claim, Step, Transition, Update
from retrain.state.memory import MemoryStore
from tests.fakes.backend import RecordingBackend
from tests.fakes.clock import FakeClock
from tests.fakes.notices import RecordingNotices
from tests.routing.helpers import arrival, completion, make_service, tick_flush


class Crash(Exception):
    """An instance killed mid-submit: no error of ours, nothing settled, nothing released."""


class CrashOnce(RecordingBackend):
    """The first submit dies before the backend hears of it (or, `after`, just after)."""

    def __init__(self, *, after: bool = False, refuse_existing: bool = False) -> None:
        super().__init__()
        self.crashes = 1
        self.after = after
        self.refuse_existing = refuse_existing

    def submit(self, request: RunRequest) -> bool:
        if self.crashes:
            self.crashes -= 1
            if self.after:
                super().submit(request)
            raise Crash("instance killed")
        if self.refuse_existing and request.job_id in self.jobs:
            # Vertex answers a create it may not make with 403 before it looks for the id
            raise BackendError("403 permission denied on pipelineJobs.create")
        return super().submit(request)


class CountingStore(MemoryStore):
    """Counts every call that may write the spec's document (a redelivery must make none)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.writes: list[str] = []

    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
        transition = super().transact(spec, event_key, step)
        if not transition.redelivered:
            self.writes.append("transact")
        return transition

    def update(self, spec: str, step: Update) -> Transition:
        self.writes.append("update")
        return super().update(spec, step)

    def accept(self, spec: str, job_id: str, at: datetime) -> None:
        self.writes.append("accept")
        super().accept(spec, job_id, at)

    def take_over(self, spec: str, job_id: str, holder: str, lease: timedelta) -> Claim | None:
        claim = super().take_over(spec, job_id, holder, lease)
        if claim is not None:
            self.writes.append("take_over")
        return claim


def crashed_claim(backend: RecordingBackend, clock: FakeClock) -> tuple[Service, CountingStore]:
    store = CountingStore(clock)
    service, _, _, _ = make_service(store=store, backend=backend, clock=clock)
    with pytest.raises(Crash):
        service.handle("data_arrival", arrival(600, "j1"))
    return service, store


def test_redeliveries_write_nothing_while_the_claim_is_held() -> None:
    clock = FakeClock()
    backend = CrashOnce()
    service, store = crashed_claim(backend, clock)
    assert store.writes == ["transact"]  # the one admission of the event
    copies = [service.handle("data_arrival", arrival(600, "j1")) for _ in range(10)]
    assert {d.decision for (d,) in copies} == {"deduplicated"}
    assert "being started by another delivery" in copies[0][0].reason
    assert store.writes == ["transact"] and backend.jobs == {}


def test_after_the_lease_exactly_one_delivery_takes_the_claim_over() -> None:
    clock = FakeClock()
    backend = CrashOnce()
    service, store = crashed_claim(backend, clock)
    clock.advance(LEASE)
    first = service.handle("data_arrival", arrival(600, "j1"))
    second = service.handle("data_arrival", arrival(600, "j1"))
    assert [d.decision for d in first + second] == ["run", "deduplicated"]
    assert store.writes == ["transact", "take_over", "accept"]
    assert len(backend.jobs) == 1


def test_two_holders_racing_for_a_free_claim_one_wins() -> None:
    clock = FakeClock()
    _, store = crashed_claim(CrashOnce(), clock)
    (claim,) = store.specs["churn"].claims
    assert store.take_over("churn", claim.job_id, "b", LEASE) is None  # the lease is alive
    clock.advance(LEASE)
    won = [store.take_over("churn", claim.job_id, holder, LEASE) for holder in ("b", "c")]
    assert won[0] is not None and won[0].holder == "b" and won[1] is None


def test_a_skewed_instance_never_takes_a_fresh_claim() -> None:
    """Finding 7: an instance whose clock is 20 minutes ahead saw a fresh claim as stalled and
    resubmitted it. Leases are measured by the store's clock."""
    clock = FakeClock()
    backend = CrashOnce()
    _, store = crashed_claim(backend, clock)
    skewed = FakeClock(clock.now + timedelta(minutes=20))
    ahead, _, _, _ = make_service(store=store, backend=backend, clock=skewed)
    woken = ahead.handle("schedule", tick_flush(skewed.now))
    assert backend.calls == [] and [d.reason for d in woken] == ["wake-up: nothing due"]
    clock.advance(LEASE)  # the store's time: now the lease is free
    woken = ahead.handle("schedule", tick_flush(skewed.now))
    assert [d.decision for d in woken] == ["run"] and len(backend.jobs) == 1


def test_a_transient_failure_hands_the_lease_back_for_the_redelivery() -> None:
    clock = FakeClock()
    backend = RecordingBackend(transient_failures=1)
    service, _, _, _ = make_service(backend=backend, clock=clock)
    with pytest.raises(TransientError):
        service.handle("data_arrival", arrival(600, "j1"))
    (again,) = service.handle("data_arrival", arrival(600, "j1"))  # at once, no lease to wait
    assert again.decision == "run" and len(backend.jobs) == 1


def test_a_resubmit_refused_although_the_job_exists_is_the_claims_run_not_a_notice() -> None:
    """Finding 7: the claimant died after Vertex created the job; the delivery taking the claim
    over got 403 on create. That job is the claim's run: accepted, no 'refused' notice."""
    clock = FakeClock()
    backend = CrashOnce(after=True, refuse_existing=True)
    notices = RecordingNotices()
    store = MemoryStore(clock)
    service, _, _, _ = make_service(store=store, backend=backend, clock=clock, notices=notices)
    with pytest.raises(Crash):
        service.handle("data_arrival", arrival(600, "j1"))
    clock.advance(LEASE)
    (decision,) = service.handle("data_arrival", arrival(600, "j1"))
    assert decision.decision == "deduplicated" and "already exists" in decision.reason
    assert notices.problems == []
    (claim,) = store.specs["churn"].claims
    assert claim.accepted and store.specs["churn"].pending_rows == 0


def test_a_run_whose_completion_was_lost_is_completed_by_the_wake_up() -> None:
    """Finding 5: the claim was dropped after SETTLE and nothing was ever reported."""
    clock = FakeClock()
    service, backend, _, sink = make_service(clock=clock)
    (run,) = service.handle("data_arrival", arrival(600, "j1"))
    backend.finish(run.job_id)  # it ended; its state-change event never arrives
    clock.advance(SETTLE)
    woken = service.handle("schedule", tick_flush(clock.now))
    assert [(d.decision, d.job_id) for d in woken] == [("completed", run.job_id)]
    assert "completion event was lost" in woken[0].reason
    assert [o.job_id for o in sink.outcomes] == [run.job_id]
    assert service.store.read("churn").claims == ()  # type: ignore[union-attr]
    assert service.handle("schedule", tick_flush(clock.now))[0].reason == "wake-up: nothing due"


def test_a_run_past_max_run_time_raises_the_notice_once() -> None:
    """Finding 5: a job stuck RUNNING for 30 days held its rows and nobody was told."""
    clock = FakeClock()
    notices = RecordingNotices()
    service, _, _, _ = make_service(clock=clock, notices=notices)
    (run,) = service.handle("data_arrival", arrival(600, "j1"))
    clock.advance(timedelta(hours=23))
    assert service.handle("schedule", tick_flush(clock.now))[0].reason == "wake-up: nothing due"
    clock.advance(timedelta(hours=2))  # churn's max_run_time is the default, 24h
    woken = service.handle("schedule", tick_flush(clock.now))
    assert [d.reason.split(":")[0] for d in woken] == ["overdue"] and woken[0].alert
    clock.advance(timedelta(days=29))
    service.handle("schedule", tick_flush(clock.now))
    assert [(p.kind, p.job_id) for p in notices.problems] == [("stale", run.job_id)]
    assert "max_run_time 24h" in notices.problems[0].summary


class DownSink:
    """A completion sink whose code host is down for the first `down` attempts."""

    def __init__(self, down: int) -> None:
        self.down = down
        self.posted: list[RunOutcome] = []

    def handle(self, outcome: RunOutcome) -> None:
        if self.down:
            self.down -= 1
            raise TransientError("GitHub: 503 unavailable")
        self.posted.append(outcome)


def test_a_completion_is_retried_until_posted_logging_one_decision() -> None:
    """Finding 6: each attempt logged 'completed' and the claim was released at the first."""
    clock = FakeClock()
    sink = DownSink(down=7)  # longer than Pub/Sub's 5 attempts
    service, backend, log, _ = make_service(clock=clock, sink=sink)  # type: ignore[arg-type]
    (run,) = service.handle("data_arrival", arrival(600, "j1"))
    backend.finish(run.job_id)
    body = completion(backend, run.job_id)
    for _ in range(5):  # Pub/Sub's attempts, then the dead-letter topic
        with pytest.raises(TransientError):
            service.handle("run_complete", body)
    assert [d.decision for d in log.decisions] == ["run"]
    assert service.store.read("churn").claims != ()  # type: ignore[union-attr]
    for _ in range(3):  # the wake-up tries each minute while the host is down, then posts
        clock.advance(SETTLE)
        service.handle("schedule", tick_flush(clock.now))
    assert [o.job_id for o in sink.posted] == [run.job_id]
    assert [d.decision for d in log.decisions if d.job_id == run.job_id] == ["run", "completed"]
    assert service.store.read("churn").claims == ()  # type: ignore[union-attr]
