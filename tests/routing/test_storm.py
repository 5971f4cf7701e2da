"""A redelivery storm against the in-memory ports: every write's rows in exactly one run.

The same storm runs against the Firestore emulator in tests/integration.
"""

from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from retrain.errors import TransientError
from retrain.routing.decision import Decision
from retrain.routing.service import Service
from tests.fakes.backend import RecordingBackend
from tests.fakes.clock import T0, FakeClock
from tests.routing.helpers import arrival, make_service, tick_flush


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


def run_rows(decisions: list[Decision]) -> int:
    """Rows the started runs took, as their decisions say."""
    found = [re.match(r"(?:wake-up: )?(\d+) new rows", d.reason) for d in decisions]
    return sum(
        int(m.group(1)) for d, m in zip(decisions, found, strict=True) if d.decision == "run" and m
    )


def test_storm_in_memory_every_row_in_exactly_one_run() -> None:
    """Shuffled, a later window may run first: the earlier windows' rows are then late and
    wait for the wake-up, which starts them in a window after it. None is counted twice."""
    backend = RecordingBackend(finish_at_once=True)
    clock = FakeClock(T0 + timedelta(hours=8))
    service, _, log, _ = make_service(backend=backend, clock=clock)
    decisions = storm(service, storm_bodies(), copies=25, workers=8)
    assert len(decisions) == 100 and len(log.decisions) == 100
    assert set(decisions) <= {"run", "deduplicated", "debounced"}
    for _ in range(4):
        clock.advance(timedelta(hours=1))
        service.handle("schedule", tick_flush(clock.now))
    assert run_rows(log.decisions) == 2400
    assert len(backend.jobs) == sum(d.decision == "run" for d in log.decisions)
