"""One concurrency limit for every trigger: a drift alert or a schedule tick counts the open
claims of data arrivals, not only the jobs the backend lists."""

from __future__ import annotations

import pytest

from retrain.errors import TransientError
from retrain.events.envelope import pubsub_body
from retrain.routing.decision import EventKind
from tests.fakes.backend import RecordingBackend
from tests.routing.helpers import arrival, make_service, tick

ALERT = pubsub_body(
    {
        "spec": "churn",
        "run_id": "r1",
        "anomalies": {"anomalyInfo": {"x": {"reason": [{"type": "SCHEMA_NEW_COLUMN"}]}}},
    },
    "d1",
    {},
    publish_time="2026-03-02T09:59:00Z",  # a minute before the services' clock (T0)
)


@pytest.mark.parametrize(("kind", "body"), [("drift", ALERT), ("schedule", tick())])
def test_a_claim_being_submitted_counts_against_the_limit(kind: EventKind, body: object) -> None:
    """churn allows one run: a data claim whose submit was interrupted (no job yet) is it."""
    backend = RecordingBackend(transient_failures=1)
    service, _, _, _ = make_service(backend=backend)
    with pytest.raises(TransientError):
        service.handle("data_arrival", arrival(600, "j1"))  # the claim stays, unsubmitted
    (decision,) = service.handle(kind, body)
    assert decision.decision == "ignored"
    assert "1 run(s) in progress, limit 1" in decision.reason
    assert backend.jobs == {}
