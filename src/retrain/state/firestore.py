"""StateStore on Firestore (locally: its emulator, found through FIRESTORE_EMULATOR_HOST).

Two collections: `<prefix>-specs/<spec>` (SpecState) and `<prefix>-events/<hash>` (one
EventRecord per spec and event key, with `expire_at` for a TTL policy). Both are read and
written in one transaction, so two instances handling one message cannot both count it.
"""

from __future__ import annotations

import hashlib
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from retrain.errors import TransientError
from retrain.state.base import EventRecord, SpecState, Step, Transition

EVENT_TTL = timedelta(days=30)
MAX_ATTEMPTS = 25  # commit retries inside one transaction (a redelivery storm hits one document)
READ_ATTEMPTS = 4  # reads aborted by lock contention ("Transaction lock timeout"): whole retries


def _event_doc_id(spec: str, event_key: str) -> str:
    """Keys contain '/' (job names), which document ids may not."""
    return hashlib.sha256(f"{spec}\x1f{event_key}".encode()).hexdigest()[:40]


class FirestoreStore:
    """The client is created at first use, never at import or construction."""

    def __init__(self, project: str, prefix: str = "retrain", database: str | None = None) -> None:
        self._project = project
        self._prefix = prefix
        self._database = database
        self._db: Any = None

    def _client(self) -> Any:
        if self._db is None:
            from google.cloud import firestore

            self._db = firestore.Client(project=self._project, database=self._database)
        return self._db

    def transact(self, spec: str, event_key: str, step: Step) -> Transition:
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

        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                result: Transition = apply(db.transaction(max_attempts=MAX_ATTEMPTS))
                break
            except api.Aborted as exc:
                if attempt == READ_ATTEMPTS:
                    raise TransientError(f"firestore contention: {exc}") from exc
                time.sleep(random.uniform(0.05, 0.2) * attempt)
            except (api.ServiceUnavailable, api.DeadlineExceeded) as exc:
                raise TransientError(f"firestore: {exc}") from exc
            except ValueError as exc:  # "Failed to commit transaction in N attempts"
                if "attempts" not in str(exc):
                    raise
                raise TransientError(f"firestore contention: {exc}") from exc
        return result
