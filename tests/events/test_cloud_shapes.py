"""Cloud shapes end to end through the router: each append to a Write API `_default` stream
counts once, and the legacy v1 entry of a write never races its v2 entry."""

from __future__ import annotations

from pathlib import Path

from tests.routing.helpers import make_service

GOLDEN = Path(__file__).parents[1] / "golden" / "events"


def test_every_append_to_the_default_stream_counts() -> None:
    service, _, log, _ = make_service()
    for name in ("bigquery_v2_write_api.json", "bigquery_v2_write_api_second.json"):
        service.handle("data_arrival", (GOLDEN / name).read_bytes(), name)
    first, second = log.decisions
    assert first.decision == "run"
    # before: both appends keyed on the stream name, so the second was a "duplicate"
    assert second.decision != "deduplicated", second
    assert "250" in second.reason


def test_a_v1_entry_before_its_v2_entry_leaves_the_row_count_to_v2() -> None:
    service, backend, log, _ = make_service()
    for name in ("bigquery_v1_load.json", "bigquery_v2_below_threshold.json"):
        service.handle("data_arrival", (GOLDEN / name).read_bytes(), name)
    v1, v2 = log.decisions
    assert v1.decision == "ignored" and "legacy v1" in v1.reason
    assert v2.decision == "debounced" and backend.jobs == {}
