"""StateStore on Firestore (locally: its emulator, found through FIRESTORE_EMULATOR_HOST).

Two collections: `<prefix>-specs/<spec>` (SpecState, its claims a map keyed by job id) and
`<prefix>-events/<hash>` (one EventRecord per spec and event key, with `expire_at` for a TTL
policy).

Why no delivery can livelock a spec (docs/events.md, "Many instances"): under Firestore's
pessimistic concurrency a transaction's reads lock the documents and its commit waits for the
other transactions' locks, so every copy of a message running a read-modify-write on one spec
document makes the copies abort each other in turn. Here only what must be atomic is a
transaction: admitting a *new* event (its record created together with the spec's ledger), a
lease taken over or given back, a refused start, a completion, the wake-up. A redelivery is a
plain read of its record; settling a claim is a field write keyed by its job id, no read. Each
transaction runs once per attempt (`max_attempts=1`: no immediate retry in the library), its
reads have a short deadline, retries wait a fully jittered backoff, and all attempts of one
call end within `CALL_BUDGET`, well under the function's 60 s timeout: then TransientError,
and Pub/Sub redelivers later.
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
RPC_DEADLINE = 5.0  # seconds, per read inside a transaction
CALL_BUDGET = 30.0  # seconds, every attempt of one store call (function timeout: 60 s)
FIRST_DELAY = 0.05  # the ceiling of the first retry's random wait, doubling...
MAX_DELAY = 2.0  # ...up to this


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
    """Contention or a short outage: another attempt may pass. ValueError: the library's
    'failed to commit in 1 attempts' after an abort; AlreadyExists: another instance created
    the event's record between our read and our commit (the next attempt finds it)."""
    cause = exc.__cause__
    return (
        isinstance(exc, TransientError)
        or isinstance(cause, ValueError)
        or type(cause).__name__ in {"Aborted", "AlreadyExists", "Conflict"}
    )


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

    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
        """A redelivery is answered from a plain read (`_seen_before`) and writes nothing. A
        new event creates its record and writes the spec's ledger in one transaction; if
        another instance created the record first, the next attempt reads it as a
        redelivery."""
        from google.cloud import firestore

        db = self._client()
        spec_ref = self._spec_ref(spec)
        event_ref = db.collection(f"{self._prefix}-events").document(_event_doc_id(spec, event_key))

        @firestore.transactional
        def apply(transaction: Any) -> Transition:
            spec_snap, event_snap = (
                ref.get(transaction=transaction, timeout=RPC_DEADLINE)
                for ref in (spec_ref, event_ref)
            )
            prior = None
            if event_snap.exists:
                prior = EventRecord.model_validate(event_snap.to_dict()["record"])
            transition = step(from_document(spec_snap.to_dict()), prior)
            if transition.redelivered:
                return transition
            transaction.create(
                event_ref,
                {
                    "spec": spec,
                    "key": event_key,
                    "record": transition.record.model_dump(),
                    "expire_at": datetime.now(timezone.utc) + EVENT_TTL,
                },
            )
            if transition.state is None:
                return transition
            state = stamped(transition.state, spec_snap.read_time)
            transaction.set(spec_ref, to_document(state))
            return transition.model_copy(update={"state": state})

        def attempt() -> Transition:
            seen = self._seen_before(db, spec_ref, event_ref, step)
            if seen is not None:
                return seen
            result: Transition = apply(db.transaction(max_attempts=1))
            return result

        return self._bounded(spec, attempt)

    def update(self, spec: str, step: Update) -> Transition:
        """The spec's state alone, in one transaction; a state that did not change is not
        written (the wake-up reads every spec every minute)."""
        from google.cloud import firestore

        spec_ref = self._spec_ref(spec)

        @firestore.transactional
        def apply(transaction: Any) -> Transition:
            snap = spec_ref.get(transaction=transaction, timeout=RPC_DEADLINE)
            state = from_document(snap.to_dict())
            transition = step(state)
            if transition.state is None or transition.state == state:
                return transition
            written = stamped(transition.state, snap.read_time)
            transaction.set(spec_ref, to_document(written))
            return transition.model_copy(update={"state": written})

        def attempt() -> Transition:
            result: Transition = apply(self._client().transaction(max_attempts=1))
            return result

        return self._bounded(spec, attempt)

    def accept(self, spec: str, job_id: str, at: datetime) -> None:
        """Three fields of one claim, by path: no read, no transaction, the same result however
        often it is written. A missing document (never happens: the claim was written) is left
        missing."""
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
        """A conditional write: in one transaction, the claim is taken only if its lease is
        free by Firestore's own clock (the read's time), so two instances, whatever their
        clocks, cannot both take it."""
        from google.cloud import firestore

        spec_ref = self._spec_ref(spec)

        @firestore.transactional
        def apply(transaction: Any) -> Claim | None:
            snap = spec_ref.get(transaction=transaction, timeout=RPC_DEADLINE)
            after = taken_over(from_document(snap.to_dict()), job_id, holder, lease, snap.read_time)
            if after is None:
                return None
            transaction.set(spec_ref, to_document(after))
            return after.claim(job_id)

        def attempt() -> Claim | None:
            result: Claim | None = apply(self._client().transaction(max_attempts=1))
            return result

        return self._bounded(spec, attempt)

    def _bounded(self, spec: str, attempt: Callable[[], T]) -> T:
        """Attempts until one passes or `budget` seconds have gone; before each retry a wait
        drawn uniformly from zero to a doubling ceiling (full jitter), so instances that
        collided do not collide again in step."""
        deadline = time.monotonic() + self._budget
        ceiling = FIRST_DELAY
        while True:
            try:
                with translated(f"firestore {spec}"):
                    try:
                        return attempt()
                    except ValueError as exc:  # the library: "Failed to commit ... attempts"
                        if "attempts" not in str(exc):
                            raise
                        raise TransientError(f"firestore {spec}: contended: {exc}") from exc
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

    @staticmethod
    def _seen_before(db: Any, spec_ref: Any, event_ref: Any, step: Step) -> Transition | None:
        """A redelivery, answered without a transaction. An event's record is created once and
        never changed, so finding it by a plain read is as good as inside a transaction, and
        takes no locks: in a redelivery storm, every copy would otherwise queue on the spec's
        document. None when the event is new."""
        found = db.get_all([spec_ref, event_ref], timeout=RPC_DEADLINE)
        snaps = {snap.reference.path: snap for snap in found}
        event_snap = snaps.get(event_ref.path)
        if event_snap is None or not event_snap.exists:
            return None
        spec_snap = snaps.get(spec_ref.path)
        state = from_document(spec_snap.to_dict() if spec_snap else None)
        prior = EventRecord.model_validate(event_snap.to_dict()["record"])
        transition = step(state, prior)
        return transition if transition.redelivered else None
