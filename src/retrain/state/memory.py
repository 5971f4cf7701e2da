"""An in-process StateStore: a lock around two dicts. For tests and the dry run.

Its clock stands for Firestore's own time: leases are stamped and measured by it, whatever
clock the service reading them keeps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from retrain.state.base import Claim, EventRecord, SpecState, Step, Transition, Update
from retrain.state.leases import accepted_claim, released_claim, stamped, taken_over


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class MemoryStore:
    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.specs: dict[str, SpecState] = {}
        self.events: dict[tuple[str, str], EventRecord] = {}

    def read(self, spec: str) -> SpecState | None:
        with self._lock:
            return self.specs.get(spec)

    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
        with self._lock:
            transition = step(self.specs.get(spec, SpecState()), self.events.get((spec, event_key)))
            if transition.redelivered:
                return transition
            self.events[(spec, event_key)] = transition.record
            if transition.state is not None:
                self.specs[spec] = stamped(transition.state, self._clock())
            return transition.model_copy(update={"state": self.specs.get(spec)})

    def update(self, spec: str, step: Update) -> Transition:
        with self._lock:
            transition = step(self.specs.get(spec, SpecState()))
            if transition.state is not None:
                self.specs[spec] = stamped(transition.state, self._clock())
            return transition

    def accept(self, spec: str, job_id: str, at: datetime) -> None:
        with self._lock:
            state = self.specs.get(spec)
            if state is not None:
                self.specs[spec] = accepted_claim(state, job_id, at)

    def release(self, spec: str, job_id: str, holder: str) -> None:
        with self._lock:
            state = self.specs.get(spec)
            if state is not None:
                self.specs[spec] = released_claim(state, job_id, holder)

    def take_over(self, spec: str, job_id: str, holder: str, lease: timedelta) -> Claim | None:
        with self._lock:
            state = self.specs.get(spec)
            if state is None:
                return None
            after = taken_over(state, job_id, holder, lease, self._clock())
            if after is None:
                return None
            self.specs[spec] = after
            return after.claim(job_id)
