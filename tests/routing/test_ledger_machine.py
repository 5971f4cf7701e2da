"""A hypothesis state machine over the data-arrival ledger: two service instances share one
state store and one backend; arrivals (any count, any order, late entries), redeliveries,
run completions (delivered, redelivered or lost), failed and refused submits, crashes and
wake-up ticks interleave at random.

Invariants: no input ends in an unhandled exception (only the injected crash and transient
failures escape, as a 500 would); the spec never has more runs in progress than its limit;
and once the runs end and the wake-ups have fired, every arrived row is in exactly one
accepted run, or still pending below `min_new_rows`.

`make test` runs a few hundred steps (10 machines of 30 steps: the Hypothesis profile's count
/ 30, so 1 machine in `make quick`); `bench/ledger_machine.py` runs thousands
(RETRAIN_MACHINE_EXAMPLES x RETRAIN_MACHINE_STEPS). RETRAIN_MACHINE_NO_SHRINK=1 reports a
failure as found, without minutes of shrinking.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from retrain.errors import BackendError, TransientError
from retrain.routing.policy import LEASE, SETTLE
from retrain.routing.service import Service
from retrain.runs import RunRequest
from retrain.state.base import SpecState, Step, Transition, Update
from retrain.state.memory import MemoryStore
from tests.fakes.backend import RecordingBackend
from tests.fakes.clock import T0, FakeClock
from tests.routing.helpers import arrival, completion, make_service, tick_flush

EXAMPLES = int(os.environ.get("RETRAIN_MACHINE_EXAMPLES", settings().max_examples // 30))
STEPS = int(os.environ.get("RETRAIN_MACHINE_STEPS", "30"))
SPEC, LIMIT, MIN_ROWS = "churn", 1, 500  # tests/golden/events/specs/churn.yaml


class Crash(Exception):
    """The instance died mid-submit (injected)."""


class FlakyBackend(RecordingBackend):
    """The shared backend, with the next submit set to crash, refuse or fail briefly."""

    def __init__(self) -> None:
        super().__init__()
        self.next_failure = ""

    def submit(self, request: RunRequest) -> bool:
        failure, self.next_failure = self.next_failure, ""
        if failure == "crash":
            raise Crash("instance died mid-submit")
        if failure == "refuse":
            self.calls.append(request)
            raise BackendError("403 permission denied (injected)")
        if failure == "transient":
            raise TransientError("503 unavailable (injected)")
        return super().submit(request)


class View:
    """One instance's view of the backend: its running-jobs read may be one step old while
    the clock has not moved (the read happens outside the transaction, as on Cloud Functions)."""

    def __init__(self, backend: FlakyBackend, machine: LedgerMachine) -> None:
        self.backend = backend
        self.machine = machine

    def submit(self, request: RunRequest) -> bool:
        return self.backend.submit(request)

    def running(self, spec: str) -> list[str]:
        stale = self.machine.snapshot
        if stale is not None and stale[0] == self.machine.clock.now:
            return list(stale[1])
        return self.backend.running(spec)

    def describe(self, job_id: str) -> Any:
        return self.backend.describe(job_id)


class Ledger(MemoryStore):
    """The shared store, remembering the rows of every claim ever written, by job id."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.claimed: dict[str, int] = {}

    def _note(self, state: SpecState | None) -> None:
        for claim in state.claims if state else ():
            seen = self.claimed.setdefault(claim.job_id, claim.rows)
            assert seen == claim.rows, f"job {claim.job_id} claimed twice: {seen} and {claim.rows}"

    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
        transition = super().transact(spec, event_key, step)
        self._note(transition.state)
        return transition

    def update(self, spec: str, step: Update) -> Transition:
        transition = super().update(spec, step)
        self._note(transition.state)
        return transition


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(T0 + timedelta(days=1))
        self.store = Ledger(self.clock)
        self.backend = FlakyBackend()
        self.snapshot: tuple[Any, list[str]] | None = None
        self.instances: list[Service] = [
            make_service(store=self.store, backend=View(self.backend, self), clock=self.clock)[0]  # type: ignore[arg-type]
            for _ in range(2)
        ]
        self.sent: list[dict[str, Any]] = []  # every body that reached the service once
        self.arrived = 0
        self.completions: list[dict[str, Any]] = []
        self.writes = 0

    def deliver(self, instance: int, kind: str, body: dict[str, Any]) -> bool:
        """True when the delivery was answered; the injected failures escape like a 500."""
        try:
            self.instances[instance].handle(kind, body)  # type: ignore[arg-type]
        except (Crash, TransientError):
            return False
        return True

    def step_done(self) -> None:
        self.snapshot = (self.clock.now, self.backend.running(SPEC))

    @rule(
        rows=st.integers(0, 1500),
        minutes=st.integers(-240, 90),
        instance=st.integers(0, 1),
        failure=st.sampled_from(["", "", "", "crash", "refuse", "transient"]),
    )
    def arrive(self, rows: int, minutes: int, instance: int, failure: str) -> None:
        self.writes += 1
        body = arrival(rows, f"w{self.writes}", self.clock.now + timedelta(minutes=minutes))
        self.backend.next_failure = failure
        before = len(self.store.events)
        self.deliver(instance, "data_arrival", body)
        self.backend.next_failure = ""
        if len(self.store.events) > before:  # the transaction counted it
            self.arrived += rows
            self.sent.append(body)
        self.step_done()

    @precondition(lambda self: bool(self.sent))
    @rule(data=st.data(), instance=st.integers(0, 1))
    def redeliver(self, data: st.DataObject, instance: int) -> None:
        body = data.draw(st.sampled_from(self.sent))
        self.deliver(instance, "data_arrival", body)
        self.step_done()

    @precondition(lambda self: bool(self.backend.active))
    @rule(
        data=st.data(),
        state=st.sampled_from(["PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED"]),
        fate=st.sampled_from(["delivered", "delivered", "lost"]),
        instance=st.integers(0, 1),
    )
    def run_ends(self, data: st.DataObject, state: str, fate: str, instance: int) -> None:
        job_id = data.draw(st.sampled_from(sorted(self.backend.active)))
        self.backend.finish(job_id)
        body = completion(self.backend, job_id, state)
        if fate == "delivered":
            self.completions.append(body)
            self.deliver(instance, "run_complete", body)
        self.step_done()

    @precondition(lambda self: bool(self.completions))
    @rule(data=st.data(), instance=st.integers(0, 1))
    def completion_redelivered(self, data: st.DataObject, instance: int) -> None:
        self.deliver(instance, "run_complete", data.draw(st.sampled_from(self.completions)))
        self.step_done()

    @rule(minutes=st.integers(1, 120), instance=st.integers(0, 1))
    def tick(self, minutes: int, instance: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        self.deliver(instance, "schedule", tick_flush(self.clock.now))
        self.step_done()

    @invariant()
    def within_the_limit(self) -> None:
        running = self.backend.running(SPEC)
        assert len(running) <= LIMIT, f"{len(running)} runs at once: {running}"

    def teardown(self) -> None:
        """Every run ends (its completion delivered), time passes, the wake-ups fire."""
        for _ in range(20):
            for job_id in sorted(self.backend.active):
                self.backend.finish(job_id)
                assert self.deliver(0, "run_complete", completion(self.backend, job_id))
            self.clock.advance(LEASE + SETTLE + timedelta(hours=2))
            assert self.deliver(1, "schedule", tick_flush(self.clock.now))
            state = self.store.specs.get(SPEC, SpecState())
            settled = not self.backend.active and all(c.accepted for c in state.claims)
            if settled and (state.pending_rows < MIN_ROWS or state.pending_events == 0):
                break
        state = self.store.specs.get(SPEC, SpecState())
        trained = sum(self.store.claimed.get(j, 0) for j in self.backend.jobs)
        assert all(c.accepted for c in state.claims), state.claims
        assert state.pending_rows < MIN_ROWS or state.pending_events == 0, state
        assert trained + state.pending_rows == self.arrived, (trained, state, self.arrived)


LedgerMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate]
    if os.environ.get("RETRAIN_MACHINE_NO_SHRINK")
    else list(Phase),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLedger = LedgerMachine.TestCase
