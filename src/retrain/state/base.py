"""The state port: atomic read-modify-writes of one spec's state, and the few writes that
need no read.

`transact` reads the spec's state and one event's earlier record (if the event was seen),
calls a pure `step`, and writes what it returns atomically, on condition that nothing changed
since the read; a redelivery (its record found) writes nothing. `update` does the same without
an event record (completions, wake-ups, a refused start). A store may call a step more than
once (Firestore's retry from a fresh read after another writer won), so steps must be pure.
Only the delivery holding a claim's lease settles it: `accept` is a write keyed by the job id
(no read), `release` hands the lease back after a transient failure, and `take_over` gives an
unsettled claim whose lease ran out (or was released) to exactly one new holder. Leases are
measured by the store's clock (Firestore's own time), never an instance's, so a skewed
instance cannot take a fresh claim.

Rows are never dropped by bookkeeping: they are either pending, or held by a `Claim` (a run
being started, running, or ended and not yet reported), and leave the state only when the run
holding them has ended and its completion was handed on, or its start was refused (then they
are pending again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

MAX_COUNT = 2**63 - 1  # Firestore integers are int64; counts saturate here


def add_counts(a: int, b: int) -> int:
    return min(a + b, MAX_COUNT)


class Claim(BaseModel):
    """A data-arrival run taken in the write that admitted its event, before it is submitted.

    It holds the pending rows it takes and counts against the concurrency limit from that
    moment, on every instance. `accepted` once the backend took the job (or said it exists);
    a refused submit gives the rows back; a claim whose submit was interrupted is submitted
    again (same job id) by a redelivery or the next wake-up.
    """

    model_config = ConfigDict(frozen=True)

    job_id: str
    rows: int
    events: int
    unknown: bool = False
    window: int
    version: str
    event_id: str = ""
    claimed_at: datetime
    accepted: bool = False
    accepted_at: datetime | None = None
    holder: str = ""  # the delivery that may submit and settle it ("": released)
    leased_at: datetime | None = None  # by the store's clock; None: stamped when written
    overdue_noticed: bool = False  # its run outlived the spec's max_run_time, and was told


class SpecState(BaseModel):
    """Per spec: rows waiting for a run, the runs holding rows, and what notices know."""

    model_config = ConfigDict(frozen=True)

    pending_rows: int = 0
    pending_events: int = 0  # arrivals counted in pending_rows (0: nothing waits)
    pending_unknown: bool = False  # a waiting arrival did not say how many rows (v1 loads)
    last_window: int | None = None  # the latest window a run was started (or refused) in
    last_job_id: str = ""
    claims: tuple[Claim, ...] = ()
    watched_since: datetime | None = None  # first time the service looked at this spec
    last_success: datetime | None = None
    stale_noticed: bool = False

    def claim(self, job_id: str) -> Claim | None:
        return next((c for c in self.claims if c.job_id == job_id), None)

    def without(self, job_id: str) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.job_id != job_id)


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
    claim: Claim | None = None  # a redelivery's run, if it still holds rows (not written)


Step = Callable[[SpecState, EventRecord | None], Transition]
Update = Callable[[SpecState], Transition]


class StateStore(Protocol):
    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
        """Apply `step` atomically; write the record unless `redelivered`, and the state if set."""
        ...

    def update(self, spec: str, step: Update) -> Transition:
        """Apply `step` to the spec's state atomically; write the state if set (no record)."""
        ...

    def read(self, spec: str) -> SpecState | None:
        """The spec's state as last written (None: never), for reports; no transaction."""
        ...

    def accept(self, spec: str, job_id: str, at: datetime) -> None:
        """The claim's run was taken by the backend: written by job id, no read, idempotent.
        Landing after its run's end (the claim gone) leaves nothing behind."""
        ...

    def release(self, spec: str, job_id: str, holder: str) -> None:
        """The holder gives its lease back (a transient failure): the next delivery takes over."""
        ...

    def take_over(self, spec: str, job_id: str, holder: str, lease: timedelta) -> Claim | None:
        """The unsettled claim, now held by `holder`, if its lease was released or ran out by
        the store's clock; None when another holder keeps it or it is settled."""
        ...
