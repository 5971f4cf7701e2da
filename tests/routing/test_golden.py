"""Every golden payload through the router: the decisions must match expected.json exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrain.backends.base import ProductionRuns
from tests.fakes.clock import FakeClock
from tests.routing.golden_time import GOLDEN_NOW
from tests.routing.helpers import backend_that_ran, make_service

GOLDEN = Path(__file__).parents[1] / "golden" / "events"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text())
# The golden state-change entries' jobs ran as production does in these tests.
PRODUCTION = ProductionRuns("", lambda spec: f"gs://acme-ml-pipelines/root/{spec}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_event(name: str) -> None:
    service, backend, log, sink = make_service(
        backend=backend_that_ran(
            *(GOLDEN / n for n, c in EXPECTED.items() if c["function"] == "run_complete")
        ),
        production=PRODUCTION,
        clock=FakeClock(GOLDEN_NOW),
    )
    decisions = service.handle(EXPECTED[name]["function"], (GOLDEN / name).read_bytes(), name)
    assert [d.summary() for d in decisions] == EXPECTED[name]["decisions"]
    assert log.decisions == decisions  # every decision is recorded
    assert len(backend.jobs) == sum(d.decision == "run" for d in decisions)
    assert len(sink.outcomes) == sum(d.decision == "completed" for d in decisions)
