"""StateStore on Firestore (locally: its emulator, found through FIRESTORE_EMULATOR_HOST).

Two collections: `<prefix>-specs/<spec>` (SpecState) and `<prefix>-events/<hash>` (one
EventRecord per spec and event key, with `expire_at` for a TTL policy). Both are read and
written in one transaction, so two instances handling one message cannot both count it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from retrain.errors import RetrainError, TransientError
from retrain.state.base import EventRecord, SpecState, Step, Transition, Update
from retrain.vendor_errors import Backoff, translated

EVENT_TTL = timedelta(days=30)
COMMIT_ATTEMPTS = 2  # inside one transaction (a retry keeps its place in the lock queue)
# Whole transactions, after an abort from contention with other instances: 8 attempts, the
# first retry after 0.05 s, doubling, jittered, up to 2 s.
BACKOFF = Backoff(attempts=8, first_delay=0.05, max_delay=2.0, jitter=True)


def _contended(exc: RetrainError) -> bool:
    """Another instance holds the spec: a read hit a lock timeout (ABORTED) or the commit
    failed its attempts. Worth another transaction; unavailability is left to Pub/Sub."""
    cause = exc.__cause__
    return isinstance(cause, ValueError) or type(cause).__name__ == "Aborted"


def _event_doc_id(spec: str, event_key: str) -> str:
    """Keys contain '/' (job names), which document ids may not."""
    return hashlib.sha256(f"{spec}\x1f{event_key}".encode()).hexdigest()[:40]


class FirestoreStore:
    """The client is created at first use, never at import or construction."""

    def __init__(
        self,
        project: str,
        prefix: str = "retrain",
        database: str | None = None,
        emulator: str = "",
    ) -> None:
        self._emulator = emulator
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._project = project
        self._prefix = prefix
        self._database = database
        self._db: Any = None

    def _client(self) -> Any:
        if self._db is None:
            from retrain.google.clients import firestore_client

            self._db = firestore_client(self._project, self._database, self._emulator)
        return self._db

    def _lock_for(self, spec: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(spec, threading.Lock())

    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
        """Redeliveries are answered by a plain read (`_seen_before`). New events run one
        transaction per spec at a time in this process (threads of one instance would only
        wait on each other's locks); contention with other instances aborts the transaction,
        which is retried with jittered backoff, looking again for a record the winner wrote.
        When the attempts run out, TransientError: Pub/Sub redelivers."""
        from google.cloud import firestore

        db = self._client()
        spec_ref = db.collection(f"{self._prefix}-specs").document(spec)
        event_ref = db.collection(f"{self._prefix}-events").document(_event_doc_id(spec, event_key))

        @firestore.transactional
        def apply(transaction: Any) -> Transition:
            spec_snap = spec_ref.get(transaction=transaction)
            event_snap = event_ref.get(transaction=transaction)
            state = SpecState.model_validate(spec_snap.to_dict() or {})
            prior = None
            if event_snap.exists:
                prior = EventRecord.model_validate(event_snap.to_dict()["record"])
            transition = step(state, prior)
            if not transition.redelivered:
                transaction.set(
                    event_ref,
                    {
                        "spec": spec,
                        "key": event_key,
                        "record": transition.record.model_dump(),
                        "expire_at": datetime.now(timezone.utc) + EVENT_TTL,
                    },
                )
            if transition.state is not None:
                transaction.set(spec_ref, transition.state.model_dump())
            return transition

        def first(db: Any) -> Transition | None:
            return self._seen_before(db, spec_ref, event_ref, step)

        return self._retried(spec, apply, first)

    def update(self, spec: str, step: Update) -> Transition:
        """The spec's state alone, in a transaction retried like `transact`'s; a state that
        did not change is not written (the wake-up reads every spec every minute)."""
        from google.cloud import firestore

        spec_ref = self._client().collection(f"{self._prefix}-specs").document(spec)

        @firestore.transactional
        def apply(transaction: Any) -> Transition:
            snap = spec_ref.get(transaction=transaction)
            state = SpecState.model_validate(snap.to_dict() or {})
            transition = step(state)
            if transition.state is not None and transition.state != state:
                transaction.set(spec_ref, transition.state.model_dump())
            return transition

        return self._retried(spec, apply, lambda db: None)

    def _retried(
        self,
        spec: str,
        apply: Callable[[Any], Transition],
        first: Callable[[Any], Transition | None],
    ) -> Transition:
        """One transaction per spec at a time in this process; contention with other
        instances is retried with jittered backoff, then TransientError."""
        db = self._client()

        def attempt(_: int) -> Transition:
            try:
                with translated(f"firestore {spec}"):
                    seen = first(db)
                    if seen is not None:
                        return seen
                    with self._lock_for(spec):
                        result: Transition = apply(db.transaction(max_attempts=COMMIT_ATTEMPTS))
                    return result
            except ValueError as exc:  # "Failed to commit transaction in N attempts"
                if "attempts" not in str(exc):
                    raise
                raise TransientError(f"firestore contention on {spec}: {exc}") from exc

        return BACKOFF.run(attempt, _contended)

    def read(self, spec: str) -> SpecState | None:
        with translated(f"firestore read {spec}"):
            snap = self._client().collection(f"{self._prefix}-specs").document(spec).get()
            data = snap.to_dict() if snap.exists else None
        return None if data is None else SpecState.model_validate(data)

    @staticmethod
    def _seen_before(db: Any, spec_ref: Any, event_ref: Any, step: Step) -> Transition | None:
        """A redelivery, answered without a transaction. An event's record is written once and
        never changed, so finding it by a plain read is as good as inside a transaction, and
        takes no locks: in a redelivery storm, every copy would otherwise queue on the spec's
        document. None when the event is new (or the step wants to write)."""
        snaps = {snap.reference.path: snap for snap in db.get_all([spec_ref, event_ref])}
        event_snap = snaps.get(event_ref.path)
        if event_snap is None or not event_snap.exists:
            return None
        spec_snap = snaps.get(spec_ref.path)
        state = SpecState.model_validate((spec_snap.to_dict() if spec_snap else None) or {})
        prior = EventRecord.model_validate(event_snap.to_dict()["record"])
        transition = step(state, prior)
        if transition.redelivered and transition.state is None:
            return transition
        return None
