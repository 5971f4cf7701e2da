"""An existing job with a claim's job id is that claim's run: whoever created it (another
instance resuming the same claim), the claim is settled as accepted and its rows are never
given back to start a second run on them."""

from __future__ import annotations

from datetime import timedelta

from retrain.routing.policy import SETTLE
from retrain.runs import RunRequest
from tests.fakes.backend import RecordingBackend
from tests.fakes.clock import FakeClock
from tests.routing.helpers import arrival, make_service, tick_flush


class ResumerWinsBackend(RecordingBackend):
    """The first submit of each job id finds it created already, as when another instance's
    resume of the same claim reached Vertex first: ALREADY_EXISTS (False), the job running."""

    def submit(self, request: RunRequest) -> bool:
        if request.job_id not in self.jobs:
            super().submit(request)  # the other instance's create
        return super().submit(request)


def test_already_exists_settles_the_claim_and_keeps_its_rows_spent() -> None:
    backend = ResumerWinsBackend()
    service, _, _, _ = make_service(backend=backend)
    (decision,) = service.handle("data_arrival", arrival(600, "j1"))
    assert decision.decision == "deduplicated"
    assert "already exists" in decision.reason
    state = service.store.read("churn")
    assert state is not None
    (claim,) = state.claims
    assert claim.job_id == decision.job_id and claim.accepted
    assert (state.pending_rows, state.pending_events) == (0, 0)


def test_no_second_run_is_started_on_rows_a_raced_claim_already_took() -> None:
    backend = ResumerWinsBackend()
    clock = FakeClock()
    service, _, _, _ = make_service(backend=backend, clock=clock)
    (decision,) = service.handle("data_arrival", arrival(600, "j1"))
    backend.finish(decision.job_id)
    clock.advance(SETTLE + timedelta(hours=2))  # past the debounce window and the settle time
    service.handle("schedule", tick_flush(clock.now))
    assert sorted(backend.jobs) == [decision.job_id]
