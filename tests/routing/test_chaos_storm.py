"""The chaos storm (issue 26), in `make test`: five function instances on the Firestore
emulator (one with its clock 20 minutes ahead, one SIGKILLed and started again mid-storm),
1,000 deliveries of 100 messages 16 at a time, Vertex answering 503 then 429 for a while, then
wake-up ticks until the claims a killed instance held are taken over. Afterwards the
invariants are read from the stores (`bench.storm.StormResult.problems`): every delivery
answered 200, exactly the expected jobs in Vertex, one `run` decision per job, every claim
settled, every written row in exactly one run or pending, no spec over its limit.

A code host down longer than Pub/Sub's retry budget is covered without processes, in
tests/routing/test_many_instances.py (`test_a_completion_is_retried_until_posted_...`)."""

from __future__ import annotations

from pathlib import Path

from bench.storm import run_storm


def test_chaos_storm_ends_with_one_truth(firestore_emulator: str, tmp_path: Path) -> None:
    result = run_storm(
        firestore_emulator, tmp_path, messages=100, deliveries=1000, processes=5, chaos=True
    )
    report = "\n".join(result.lines())
    assert result.problems() == [], report
    assert len(result.expected_jobs) == 80 and result.jobs == result.expected_jobs, report
    assert len(result.chaos) == 4, report  # skew, outage, kill and restart, wake-up
    assert result.seconds < 180, report
