"""StateStore on Firestore (locally: its emulator, found through FIRESTORE_EMULATOR_HOST).

Two collections: `<prefix>-specs/<spec>` (SpecState) and `<prefix>-events/<hash>` (one
EventRecord per spec and event key, with `expire_at` for a TTL policy). Both are read and
written in one transaction, so two instances handling one message cannot both count it.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from retrain.errors import TransientError
from retrain.state.base import EventRecord, SpecState, Step, Transition

EVENT_TTL = timedelta(days=30)
COMMIT_ATTEMPTS = 2  # inside one transaction (a retry keeps its place in the lock queue)
ATTEMPTS = 8  # whole transactions, after an abort from contention with other instances
FIRST_DELAY = 0.05  # seconds before the second attempt; doubles, jittered, up to MAX_DELAY
MAX_DELAY = 2.0


def _event_doc_id(spec: str, event_key: str) -> str:
    """Keys contain '/' (job names), which document ids may not."""
    return hashlib.sha256(f"{spec}\x1f{event_key}".encode()).hexdigest()[:40]


class FirestoreStore:
    """The client is created at first use, never at import or construction."""

    def __init__(self, project: str, prefix: str = "retrain", database: str | None = None) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._project = project
        self._prefix = prefix
        self._database = database
        self._db: Any = None

    def _client(self) -> Any:
        if self._db is None:
            from google.cloud import firestore

            self._db = firestore.Client(project=self._project, database=self._database)
        return self._db

    def _lock_for(self, spec: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(spec, threading.Lock())

    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
        """Redeliveries are answered by a plain read (`_seen_before`). New events run one
        transaction per spec at a time in this process (threads of one instance would only
        wait on each other's locks); contention with other instances aborts the transaction,
        which is retried with jittered backoff, looking again for a record the winner wrote.
        After ATTEMPTS, TransientError: Pub/Sub redelivers."""
        from google.api_core import exceptions as api
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

        delay = FIRST_DELAY
        for attempt in range(1, ATTEMPTS + 1):
            try:
                seen = self._seen_before(db, spec_ref, event_ref, step)
                if seen is not None:
                    return seen
                with self._lock_for(spec):
                    result: Transition = apply(db.transaction(max_attempts=COMMIT_ATTEMPTS))
                return result
            except (api.ServiceUnavailable, api.DeadlineExceeded) as exc:
                raise TransientError(f"firestore: {exc}") from exc
            except (api.Aborted, ValueError) as exc:
                # Aborted: a read hit a lock timeout; ValueError: "Failed to commit
                # transaction in N attempts" (contention on commit).
                if isinstance(exc, ValueError) and "attempts" not in str(exc):
                    raise
                if attempt == ATTEMPTS:
                    raise TransientError(f"firestore contention: {exc}") from exc
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, MAX_DELAY)
        raise AssertionError("unreachable")

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
