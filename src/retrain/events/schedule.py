"""Cloud Scheduler ticks -> ScheduleTick.

`retrain deploy` syncs one Scheduler job per cron spec; each tick is a Pub/Sub message
`{"spec", "schedule", "git_sha"}` with the attribute `retrain-spec` (`retrain.delivery.schedules`).
The tick names no time of its own, so the key comes from the message: its publish time
truncated to the minute (cron fires at most once a minute, so a Scheduler retry or a Pub/Sub
redelivery of one tick lands on the same key), else its message id.
"""

from __future__ import annotations

from datetime import timezone

from retrain.errors import EventError
from retrain.events.envelope import Envelope
from retrain.events.fields import text, timestamp
from retrain.events.types import ScheduleTick

SPEC_ATTRIBUTE = "retrain-spec"


def tick_key(envelope: Envelope) -> str:
    """minute:YYYY-MM-DDTHH:MMZ from the publish time, else message:<id>."""
    if envelope.publish_time:
        when = timestamp({"publishTime": envelope.publish_time}, "publishTime")
        return "minute:" + when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
    if envelope.message_id:
        return f"message:{envelope.message_id}"
    raise EventError("schedule tick has neither a publishTime nor a messageId to key its run")


def decode_schedule_tick(envelope: Envelope) -> ScheduleTick:
    """The tick's spec (body, else attribute; they must agree), its git sha and its key."""
    body = envelope.payload
    named = text(body, "spec")
    attribute = envelope.attributes.get(SPEC_ATTRIBUTE, "")
    if named and attribute and named != attribute:
        raise EventError(f"schedule tick names spec {named!r} but its attribute says {attribute!r}")
    spec = named or attribute
    if not spec:
        raise EventError(f"schedule tick names no spec (field spec, attribute {SPEC_ATTRIBUTE})")
    return ScheduleTick(spec=spec, git_sha=text(body, "git_sha"), key=tick_key(envelope))
