"""An in-process StateStore: a lock around two dicts. For tests and the dry run."""

from __future__ import annotations

import threading

from retrain.state.base import EventRecord, SpecState, Step, Transition, Update


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.specs: dict[str, SpecState] = {}
        self.events: dict[tuple[str, str], EventRecord] = {}

    def read(self, spec: str) -> SpecState | None:
        with self._lock:
            return self.specs.get(spec)

    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
        with self._lock:
            transition = step(self.specs.get(spec, SpecState()), self.events.get((spec, event_key)))
            if not transition.redelivered:
                self.events[(spec, event_key)] = transition.record
            if transition.state is not None:
                self.specs[spec] = transition.state
            return transition

    def update(self, spec: str, step: Update) -> Transition:
        with self._lock:
            transition = step(self.specs.get(spec, SpecState()))
            if transition.state is not None:
                self.specs[spec] = transition.state
            return transition
