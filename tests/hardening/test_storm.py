"""A redelivery storm through several functions-framework processes, on the Firestore emulator
and the fake Vertex server: exactly the expected runs, none lost, none doubled.

Sized for `make test` (100 messages, 1,000 deliveries, four function processes);
`bench/storm.py` runs the full one (500 messages, 10,000 deliveries) and reports its figures.
The chaos storm (faults, a skewed clock, a killed instance) is tests/routing/test_chaos_storm.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.storm import run_storm

pytestmark = pytest.mark.emulator


def test_storm_through_handler_processes_runs_each_job_exactly_once(
    firestore_emulator: str, tmp_path: Path
) -> None:
    result = run_storm(firestore_emulator, tmp_path, messages=100, deliveries=1000, processes=4)
    assert result.problems() == [], "\n".join(result.lines())
    assert len(result.expected_jobs) == 80 and result.jobs == result.expected_jobs
    assert result.decisions["run"] == 80 and result.decisions["ignored"] == 200
    # each delivery answered once, plus one more for each answer lost on the way
    assert result.decisions["deduplicated"] + result.decisions["ignored"] >= 920
