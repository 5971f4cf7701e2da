"""Cloud Scheduler ticks -> ScheduleTick (a spec's cron) or FlushTick (the wake-up).

`retrain deploy` syncs one Scheduler job per cron spec; each tick is a Pub/Sub message
`{"spec", "schedule", "git_sha"}` with the attribute `retrain-spec` (`retrain.delivery.schedules`).
The tick names no time of its own, so the key comes from the message: its publish time
truncated to the minute (cron fires at most once a minute, so a Scheduler retry or a Pub/Sub
redelivery of one tick lands on the same key), else its message id.

One more job (Terraform's `retrain-flush`; locally the stack's ticker) publishes
`{"flush": "due"}` every minute to the same topic: rows kept by a closed debounce window or a
busy spec start their run then, with no further data event.
"""

from __future__ import annotations

from datetime import timezone

from retrain.errors import EventError
from retrain.events.envelope import Envelope
from retrain.events.fields import text
from retrain.events.types import FlushTick, ScheduleTick

SPEC_ATTRIBUTE = "retrain-spec"
FLUSH_FIELD = "flush"
FLUSH_BODY = {FLUSH_FIELD: "due"}


def tick_key(envelope: Envelope) -> str:
    """minute:YYYY-MM-DDTHH:MMZ from the publish time, else message:<id>."""
    when = envelope.published
    if when is not None:
        return "minute:" + when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
    if envelope.message_id:
        return f"message:{envelope.message_id}"
    raise EventError("schedule tick has neither a publishTime nor a messageId to key its run")


def is_flush(envelope: Envelope) -> bool:
    return FLUSH_FIELD in envelope.payload


def decode_flush_tick(envelope: Envelope) -> FlushTick:
    if text(envelope.payload, FLUSH_FIELD) != FLUSH_BODY[FLUSH_FIELD]:
        raise EventError(f"flush tick: field {FLUSH_FIELD} must be {FLUSH_BODY[FLUSH_FIELD]!r}")
    return FlushTick()


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
