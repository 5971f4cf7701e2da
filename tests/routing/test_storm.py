"""A redelivery storm against the in-memory ports: exactly one run per distinct key.

The same storm runs against the Firestore emulator in tests/integration.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from retrain.errors import TransientError
from retrain.routing.decision import Decision
from retrain.routing.service import Service
from tests.fakes.backend import RecordingBackend
from tests.routing.helpers import T0, arrival, make_service


def deliver(service: Service, body: dict[str, Any], attempts: int = 10) -> list[Decision]:
    """As Pub/Sub does: a delivery that raises TransientError is delivered again."""
    for _ in range(attempts - 1):
        try:
            return service.handle("data_arrival", body)
        except TransientError:
            continue
    return service.handle("data_arrival", body)


def storm(service: Service, bodies: list[dict[str, Any]], copies: int, workers: int) -> list[str]:
    """Deliver each body `copies` times, shuffled, from `workers` threads at once."""
    deliveries = [body for body in bodies for _ in range(copies)]
    random.Random(3).shuffle(deliveries)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda body: deliver(service, body), deliveries))
    return [d.decision for decisions in results for d in decisions]


def storm_bodies() -> list[dict[str, Any]]:
    """Four writes, each big enough to run, each in its own debounce window."""
    return [arrival(600, f"job-{i}", T0 + timedelta(hours=2 * i)) for i in range(4)]


def test_storm_in_memory_starts_one_run_per_key() -> None:
    backend = RecordingBackend(finish_at_once=True)  # so the concurrency limit cannot hide a bug
    service, _, log, _ = make_service(backend=backend)
    decisions = storm(service, storm_bodies(), copies=25, workers=8)
    assert len(decisions) == 100 and len(log.decisions) == 100
    assert decisions.count("run") == 4
    assert set(decisions) == {"run", "deduplicated"}
    assert len(backend.jobs) == 4
