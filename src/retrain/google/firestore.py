"""StateStore on Firestore (locally: its emulator, found through FIRESTORE_EMULATOR_HOST).

Two collections: `<prefix>-specs/<spec>` (SpecState, its claims a map keyed by job id) and
`<prefix>-events/<hash>` (one EventRecord per spec and event key, with `expire_at` for a TTL
policy).

No transactions, so no locks (docs/events.md, "Many instances"). Under Firestore's pessimistic
concurrency a transaction's reads lock the documents and its commit waits for the other
transactions' locks: every instance running a read-modify-write on one spec document makes
them wait on and abort each other, and the emulator settles such a deadlock only by a lock
timeout (seconds each). Here every change is optimistic: a plain read, a pure step, then one
atomic batch whose preconditions say "nothing changed since my read": the spec document's
`update_time` (or, for its first write, that it does not exist) and, for a new event, that its
record does not exist yet (create-if-absent: of all copies of a message exactly one records
it). A failed precondition is retried from a fresh read after a fully jittered wait; all
attempts of one call end within `CALL_BUDGET`, well under the function's 60 s timeout, then
TransientError and Pub/Sub redelivers later. A redelivery is a plain read and writes nothing;
settling a claim is a field write keyed by its job id, with no read at all.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from retrain.errors import RetrainError, TransientError
from retrain.state.base import Claim, EventRecord, SpecState, Step, Transition, Update
from retrain.state.leases import released_claim, stamped, taken_over
from retrain.vendor_errors import translated

T = TypeVar("T")

EVENT_TTL = timedelta(days=30)
RPC_DEADLINE = 5.0  # seconds, per read or commit
CALL_BUDGET = 30.0  # seconds, every attempt of one store call (function timeout: 60 s)
FIRST_DELAY = 0.05  # the ceiling of the first retry's random wait, doubling...
MAX_DELAY = 2.0  # ...up to this
# What another writer getting there first looks like: the spec document changed since our
# read (FAILED_PRECONDITION), or the event's record or the spec's document was created.
_LOST_RACE = frozenset({"FailedPrecondition", "AlreadyExists", "Conflict", "Aborted"})


def _event_doc_id(spec: str, event_key: str) -> str:
    """Keys contain '/' (job names), which document ids may not."""
    return hashlib.sha256(f"{spec}\x1f{event_key}".encode()).hexdigest()[:40]


def to_document(state: SpecState) -> dict[str, Any]:
    """Claims as a map by job id, so one claim's fields can be written without a read."""
    data = state.model_dump()
    data["claims"] = {c["job_id"]: c for c in data["claims"]}
    return data


def from_document(data: dict[str, Any] | None) -> SpecState:
    """A claim entry without its rows is an acceptance that landed after its run's end (the
    claim was gone): nothing is held, it is dropped."""
    data = dict(data or {})
    claims = data.get("claims") or {}
    if isinstance(claims, dict):
        entries = [c for c in claims.values() if isinstance(c, dict) and "rows" in c]
        data["claims"] = sorted(entries, key=lambda c: (c["claimed_at"], c["job_id"]))
    return SpecState.model_validate(data)


def _retryable(exc: RetrainError) -> bool:
    """Another writer got there first, or a short outage: a fresh read may pass."""
    return isinstance(exc, TransientError) or type(exc.__cause__).__name__ in _LOST_RACE


class FirestoreStore:
    """The client is created at first use, never at import or construction."""

    def __init__(
        self,
        project: str,
        prefix: str = "retrain",
        database: str | None = None,
        emulator: str = "",
        *,
        budget: float = CALL_BUDGET,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._emulator = emulator
        self._project = project
        self._prefix = prefix
        self._database = database
        self._budget = budget
        self._sleep = sleep
        self._db: Any = None

    def _client(self) -> Any:
        if self._db is None:
            from retrain.google.clients import firestore_client

            self._db = firestore_client(self._project, self._database, self._emulator)
        return self._db

    def _spec_ref(self, spec: str) -> Any:
        return self._client().collection(f"{self._prefix}-specs").document(spec)

    def _event_ref(self, spec: str, event_key: str) -> Any:
        events = self._client().collection(f"{self._prefix}-events")
        return events.document(_event_doc_id(spec, event_key))

    def _write_state(self, batch: Any, snap: Any, state: SpecState) -> SpecState:
        """Add the spec's new state to `batch`, on condition that the document is still as
        `snap` read it; leases without a time get Firestore's time of that read."""
        state = stamped(state, snap.read_time)
        if snap.exists:
            option = self._client().write_option(last_update_time=snap.update_time)
            batch.update(snap.reference, to_document(state), option=option)
        else:
            batch.create(snap.reference, to_document(state))
        return state

    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
        """A redelivery is answered from its record, read with the spec's state, and writes
        nothing. A new event's record is created (it must not exist) in the same batch as the
        spec's new state (it must not have changed): if another copy recorded the event
        first, the next attempt reads its record and answers as a redelivery."""
        spec_ref = self._spec_ref(spec)
        event_ref = self._event_ref(spec, event_key)

        def attempt() -> Transition:
            db = self._client()
            found = db.get_all([spec_ref, event_ref], timeout=RPC_DEADLINE)
            snaps = {snap.reference.path: snap for snap in found}
            spec_snap, event_snap = snaps[spec_ref.path], snaps[event_ref.path]
            state = from_document(spec_snap.to_dict() if spec_snap.exists else None)
            prior = None
            if event_snap.exists:
                prior = EventRecord.model_validate(event_snap.to_dict()["record"])
            transition = step(state, prior)
            if transition.redelivered:
                return transition
            batch = db.batch()
            record = {
                "spec": spec,
                "key": event_key,
                "record": transition.record.model_dump(),
                "expire_at": datetime.now(timezone.utc) + EVENT_TTL,
            }
            batch.create(event_ref, record)
            if transition.state is not None:
                written = self._write_state(batch, spec_snap, transition.state)
                transition = transition.model_copy(update={"state": written})
            batch.commit(timeout=RPC_DEADLINE)
            return transition

        return self._bounded(spec, attempt)

    def _changed(
        self, spec: str, change: Callable[[SpecState, datetime], SpecState | None]
    ) -> SpecState | None:
        """Read the spec's state, let `change` return what to write (None: nothing), write it
        on condition that nobody wrote in between; retried from a fresh read otherwise."""
        spec_ref = self._spec_ref(spec)

        def attempt() -> SpecState | None:
            snap = spec_ref.get(timeout=RPC_DEADLINE)
            state = from_document(snap.to_dict() if snap.exists else None)
            after = change(state, snap.read_time)
            if after is None:
                return None
            batch = self._client().batch()
            written = self._write_state(batch, snap, after)
            batch.commit(timeout=RPC_DEADLINE)
            return written

        return self._bounded(spec, attempt)

    def update(self, spec: str, step: Update) -> Transition:
        """The spec's state alone; a state that did not change is not written (the wake-up
        reads every spec every minute)."""
        last: list[Transition] = []  # the step's answer on the attempt that passed

        def change(state: SpecState, now: datetime) -> SpecState | None:
            del now
            last[:] = [step(state)]
            after = last[0].state
            return None if after is None or after == state else after

        written = self._changed(spec, change)
        transition = last[-1]
        return transition if written is None else transition.model_copy(update={"state": written})

    def accept(self, spec: str, job_id: str, at: datetime) -> None:
        """Two fields of one claim and the spec's last job, by path: no read, the same result
        however often it is written. A missing document (never: the claim was written) is
        left missing."""
        from google.api_core.exceptions import NotFound
        from google.cloud.firestore_v1.field_path import FieldPath

        fields = {
            FieldPath("claims", job_id, "accepted").to_api_repr(): True,
            FieldPath("claims", job_id, "accepted_at").to_api_repr(): at,
            "last_job_id": job_id,
        }

        def attempt() -> None:
            try:
                self._spec_ref(spec).update(fields, timeout=RPC_DEADLINE)
            except NotFound:
                return

        self._bounded(spec, attempt)

    def release(self, spec: str, job_id: str, holder: str) -> None:
        def step(state: SpecState) -> Transition:
            return Transition(
                record=EventRecord(decision="ignored"),
                state=released_claim(state, job_id, holder),
            )

        self.update(spec, step)

    def take_over(self, spec: str, job_id: str, holder: str, lease: timedelta) -> Claim | None:
        """A conditional write: the claim is taken only if its lease is free by Firestore's
        own clock (the read's time) and nobody wrote the spec since that read, so two
        instances, whatever their clocks, cannot both take it."""

        def take(state: SpecState, now: datetime) -> SpecState | None:
            return taken_over(state, job_id, holder, lease, now)

        after = self._changed(spec, take)
        return after.claim(job_id) if after is not None else None

    def _bounded(self, spec: str, attempt: Callable[[], T]) -> T:
        """Attempts until one passes or `budget` seconds have gone; before each retry a wait
        drawn uniformly from zero to a doubling ceiling (full jitter), so instances that
        collided do not collide again in step."""
        deadline = time.monotonic() + self._budget
        ceiling = FIRST_DELAY
        while True:
            try:
                with translated(f"firestore {spec}"):
                    return attempt()
            except RetrainError as exc:
                if not _retryable(exc):
                    raise
                wait = random.uniform(0, ceiling)
                if time.monotonic() + wait >= deadline:
                    raise TransientError(f"firestore {spec}: still contended: {exc}") from exc
            self._sleep(wait)
            ceiling = min(ceiling * 2, MAX_DELAY)

    def read(self, spec: str) -> SpecState | None:
        with translated(f"firestore read {spec}"):
            snap = self._spec_ref(spec).get(timeout=RPC_DEADLINE)
            data = snap.to_dict() if snap.exists else None
        return None if data is None else from_document(data)
