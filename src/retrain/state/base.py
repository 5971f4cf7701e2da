"""The state port: one atomic read-modify-write per (spec, event).

The store reads the spec's state and this event's earlier record (if the event was seen),
calls a pure `step`, and writes what it returns, all in one transaction. A store may call
`step` more than once (Firestore retries on contention), so steps must be pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict


class SpecState(BaseModel):
    """Per spec: rows counted since the last run, and the debounce window of that run."""

    model_config = ConfigDict(frozen=True)

    pending_rows: int = 0
    last_window: int | None = None
    last_job_id: str = ""


class EventRecord(BaseModel):
    """What was decided the first time an event was seen for a spec."""

    model_config = ConfigDict(frozen=True)

    decision: Literal["run", "debounced", "ignored", "deduplicated"]
    job_id: str = ""
    reason: str = ""


class Transition(BaseModel):
    """`step`'s answer: the record of this event, and the spec state to write (None: keep)."""

    model_config = ConfigDict(frozen=True)

    record: EventRecord
    state: SpecState | None = None
    redelivered: bool = False


Step = Callable[[SpecState, EventRecord | None], Transition]


class StateStore(Protocol):
    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
        """Apply `step` atomically; write the record unless `redelivered`, and the state if set."""
        ...
