"""Cloud shapes end to end through the router: each append to a Write API `_default` stream
counts once, the legacy v1 entry of a write never races its v2 entry, and a structured
CloudEvent (what a Cloud Run function receives) is read like a push body."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from retrain.errors import EventError
from retrain.events.envelope import unwrap
from tests.fakes.clock import FakeClock
from tests.routing.golden_time import GOLDEN_NOW
from tests.routing.helpers import make_service

GOLDEN = Path(__file__).parents[1] / "golden" / "events"


def test_every_append_to_the_default_stream_counts() -> None:
    service, _, log, _ = make_service(clock=FakeClock(GOLDEN_NOW))
    for name in ("bigquery_v2_write_api.json", "bigquery_v2_write_api_second.json"):
        service.handle("data_arrival", (GOLDEN / name).read_bytes(), name)
    first, second = log.decisions
    assert first.decision == "run"
    # before: both appends keyed on the stream name, so the second was a "duplicate"
    assert second.decision != "deduplicated", second
    assert "250" in second.reason


def test_a_v1_entry_before_its_v2_entry_leaves_the_row_count_to_v2() -> None:
    service, backend, log, _ = make_service(clock=FakeClock(GOLDEN_NOW))
    for name in ("bigquery_v1_load.json", "bigquery_v2_below_threshold.json"):
        service.handle("data_arrival", (GOLDEN / name).read_bytes(), name)
    v1, v2 = log.decisions
    assert v1.decision == "ignored" and "legacy v1" in v1.reason
    assert v2.decision == "debounced" and backend.jobs == {}


def structured_event(data: object, event_id: str = "ce-77") -> dict[str, object]:
    """A CloudEvent in structured mode, as Eventarc hands a Pub/Sub message to Cloud Run."""
    return {
        "specversion": "1.0",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": "//pubsub.googleapis.com/projects/acme-analytics/topics/retrain-data-arrival",
        "id": event_id,
        "datacontenttype": "application/json",
        "data": data,
    }


def test_a_structured_cloud_event_unwraps_to_its_message_and_entry() -> None:
    push = json.loads((GOLDEN / "bigquery_v2_load.json").read_text())
    envelope = unwrap(json.dumps(structured_event(push)))
    assert envelope == unwrap(push)  # the Pub/Sub message id names the delivery
    bare = unwrap(push).payload
    assert unwrap(structured_event(bare)).event_id == "ce-77"  # no message: the event id
    encoded = {
        **structured_event(None),
        "data_base64": base64.b64encode(json.dumps(push).encode()).decode(),
    }
    del encoded["data"]
    assert unwrap(encoded) == unwrap(push)
    with pytest.raises(EventError, match="CloudEvent has no data"):
        unwrap({"specversion": "1.0", "id": "x"})


def test_retrain_route_takes_a_structured_cloud_event(tmp_path: Path) -> None:
    push = json.loads((GOLDEN / "bigquery_v2_load.json").read_text())
    event = tmp_path / "event.json"
    event.write_text(json.dumps(structured_event(push)))
    done = subprocess.run(
        [sys.executable, "-m", "retrain.cli.main", "route", str(event),
         "--specs", str(GOLDEN / "specs")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    decision = json.loads(done.stdout.splitlines()[-1])
    assert (decision["decision"], decision["spec"]) == ("run", "churn")
