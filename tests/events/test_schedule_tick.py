"""Schedule ticks: the key every copy of one tick shares, EventError for malformed ticks."""

from __future__ import annotations

from typing import Any

import pytest

from retrain.errors import EventError
from retrain.events import ScheduleTick, unwrap
from retrain.events.envelope import Envelope, kind_of, pubsub_body
from retrain.events.schedule import decode_schedule_tick
from tests.routing.helpers import tick


def test_tick_keys_on_its_publish_minute() -> None:
    decoded = decode_schedule_tick(unwrap(tick()))
    assert decoded == ScheduleTick(spec="churn", git_sha="0000000", key="minute:2026-03-02T05:00Z")


def test_copies_of_one_tick_share_a_key_and_the_next_minute_does_not() -> None:
    first = decode_schedule_tick(unwrap(tick(published="2026-03-02T05:00:00.412Z")))
    retry = decode_schedule_tick(
        unwrap(tick(published="2026-03-02T05:00:59.999999999Z", message_id="t-2"))
    )
    later = decode_schedule_tick(unwrap(tick(published="2026-03-02T05:01:00Z", message_id="t-3")))
    assert first.key == retry.key != later.key


def test_publish_time_offsets_are_keyed_in_utc() -> None:
    local = decode_schedule_tick(unwrap(tick(published="2026-03-02T06:00:10+01:00")))
    assert local.key == "minute:2026-03-02T05:00Z"


def test_without_a_publish_time_the_message_id_keys_it() -> None:
    body = tick()
    del body["message"]["publishTime"]
    assert decode_schedule_tick(unwrap(body)).key == "message:t-1"


def test_spec_may_come_from_the_attribute_alone() -> None:
    envelope = Envelope(message_id="m", attributes={"retrain-spec": "churn"}, payload={})
    assert decode_schedule_tick(envelope).spec == "churn"


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        (Envelope(payload={"spec": "churn", "schedule": "* * * * *"}), "neither a publishTime"),
        (Envelope(message_id="m", payload={"schedule": "* * * * *"}), "names no spec"),
        (Envelope(message_id="m", payload={"spec": ["churn"]}), "spec is a list"),
        (Envelope(message_id="m", payload={"spec": "churn", "git_sha": {}}), "git_sha is a dict"),
        (Envelope(publish_time="yesterday", payload={"spec": "churn"}), "not a timestamp"),
        (
            Envelope(message_id="m", attributes={"retrain-spec": "a"}, payload={"spec": "b"}),
            "attribute says 'a'",
        ),
    ],
)
def test_malformed_ticks_are_event_errors(envelope: Envelope, message: str) -> None:
    with pytest.raises(EventError, match=message):
        decode_schedule_tick(envelope)


def test_envelope_keeps_the_publish_time() -> None:
    envelope = unwrap(pubsub_body({"a": 1}, "m-1", {}, publish_time="2026-03-02T05:00:00Z"))
    assert envelope.publish_time == "2026-03-02T05:00:00Z"
    assert unwrap({"insertId": "i-9"}).publish_time == ""


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ({"spec": "churn", "schedule": "0 5 * * 1", "git_sha": ""}, "schedule"),
        ({"spec": "churn", "run_id": "r", "anomalies": {}}, "drift"),  # TFDV, not a tick
    ],
)
def test_route_tells_ticks_from_tfdv_anomalies(payload: dict[str, Any], kind: str) -> None:
    assert kind_of(payload) == kind
