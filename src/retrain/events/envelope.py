"""Unwrap what a function receives into one JSON object: a Pub/Sub push message carrying a
log entry, a bare log entry, a structured-mode CloudEvent (JSON with `specversion`, what
Eventarc delivers to a Cloud Run function) wrapping either, or bytes/str of any of them.
Anything else is an EventError.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from retrain.errors import EventError
from retrain.events.fields import timestamp

NONCE_ATTRIBUTE = "retrain-rerun-nonce"


class Envelope(BaseModel):
    """The payload of one delivery, with the Pub/Sub message facts when there was a message."""

    model_config = ConfigDict(frozen=True)

    message_id: str = ""
    publish_time: str = ""  # RFC 3339, as Pub/Sub stamps the message; keys schedule ticks
    attributes: dict[str, str] = Field(default_factory=dict)
    payload: dict[str, Any]

    @property
    def event_id(self) -> str:
        """The id decisions are logged under: the message id, else the log entry's insertId."""
        return self.message_id or str(self.payload.get("insertId") or "")

    @property
    def nonce(self) -> str:
        """An operator's re-run nonce (attribute `retrain-rerun-nonce`): a deliberate second
        run of an event already answered gets a new key, so a new job id."""
        return self.attributes.get(NONCE_ATTRIBUTE, "")

    @cached_property
    def published(self) -> datetime | None:
        """When Pub/Sub stamped the message, parsed once; None without a message. A malformed
        stamp is an EventError naming publishTime; each route decides what that means."""
        if not self.publish_time:
            return None
        return timestamp({"publishTime": self.publish_time}, "publishTime")


# JSON may spell a lone UTF-16 surrogate (\\ud800), which Python strings hold but UTF-8 cannot
# encode: hashing a key or sending it to Firestore would then crash. Such text is garbage.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def _check_unicode(value: Any, what: str) -> None:
    """EventError when any string in `value` (keys included) is not encodable as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise EventError(f"{what} holds text that is not valid unicode") from exc
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())


def _json_object(raw: str | bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EventError(f"{what} is not JSON: {exc}") from exc
    except ValueError as exc:  # an integer of more than 4300 digits (int conversion limit)
        raise EventError(f"{what} holds a number too large to read: {exc}") from exc
    except RecursionError as exc:  # "[[[[...": nested deeper than the parser's stack
        raise EventError(f"{what} is JSON nested too deeply to read") from exc
    if not isinstance(value, dict):
        raise EventError(f"{what} is JSON but not an object ({type(value).__name__})")
    escapes = (
        _SURROGATE_ESCAPE.search(raw)
        if isinstance(raw, str)
        else _SURROGATE_ESCAPE_BYTES.search(raw)
    )
    if escapes:  # rare: only then walk the whole value
        _check_unicode(value, what)
    return value


def unwrap(data: Any) -> Envelope:
    """Accept a CloudEvent's data (Pub/Sub message), a raw log entry, or their JSON text."""
    if isinstance(data, (bytes, str)):
        if not data:
            raise EventError("empty event body")
        data = _json_object(data, "event body")
    elif isinstance(data, Mapping):  # parsed by the caller (the framework): check it here
        message = data.get("message")
        if isinstance(message, Mapping):  # a push body: the payload inside is checked later
            _check_unicode([message.get("attributes"), message.get("messageId")], "message")
        else:
            _check_unicode(data, "event data")
    else:
        raise EventError(f"event data is a {type(data).__name__}, not an object")
    if "specversion" in data:
        return _cloud_event(data)
    message = data.get("message")
    if message is None:
        return Envelope(payload=dict(data))
    if not isinstance(message, Mapping):
        raise EventError("Pub/Sub 'message' is not an object")
    encoded = message.get("data")
    if not isinstance(encoded, str) or not encoded:
        raise EventError("Pub/Sub message has no data")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EventError(f"Pub/Sub message data is not base64: {exc}") from exc
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise EventError("Pub/Sub message attributes are not an object")
    message_id = message.get("messageId") or message.get("message_id") or ""
    publish_time = message.get("publishTime") or message.get("publish_time") or ""
    for name, value in (("messageId", message_id), ("publishTime", publish_time)):
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise EventError(f"Pub/Sub message {name} is a {type(value).__name__}, not a string")
    return Envelope(
        message_id=str(message_id),
        publish_time=str(publish_time),
        attributes={str(k): str(v) for k, v in attributes.items()},
        payload=_json_object(raw, "Pub/Sub message data"),
    )


def _cloud_event(event: Mapping[str, Any]) -> Envelope:
    """A structured CloudEvent (CloudEvents JSON format): its `data`, or `data_base64`, holds
    the push body or entry; the event's `id` names the delivery when no message id does."""
    if "data_base64" in event:
        encoded = event["data_base64"]
        if not isinstance(encoded, str):
            raise EventError("CloudEvent data_base64 is not a string")
        try:
            inner: Any = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EventError(f"CloudEvent data_base64 is not base64: {exc}") from exc
    elif "data" in event:
        inner = event["data"]
    else:
        raise EventError("CloudEvent has no data")
    if isinstance(inner, Mapping) and "specversion" in inner:
        raise EventError("CloudEvent data is another CloudEvent")
    envelope = unwrap(inner)
    if envelope.message_id:
        return envelope
    return envelope.model_copy(update={"message_id": str(event.get("id") or "")})


def pubsub_body(
    payload: Mapping[str, Any],
    message_id: str,
    attributes: Mapping[str, str],
    publish_time: str = "2026-01-01T00:00:00Z",
) -> dict[str, Any]:
    """The push body Pub/Sub would deliver for `payload`: the inverse of `unwrap`, for tests
    and for tools that replay a log entry."""
    return {
        "message": {
            "data": base64.b64encode(json.dumps(payload).encode()).decode(),
            "attributes": dict(attributes),
            "messageId": message_id,
            "publishTime": publish_time,
        },
        "subscription": "projects/local/subscriptions/replay",
    }


def kind_of(payload: dict[str, Any]) -> str:
    """Which function an unlabelled payload belongs to (for `retrain route`): data_arrival,
    run_complete, schedule or drift (the decoder of the guess rejects what fits none)."""
    if "schedule" in payload and "spec" in payload:  # a Cloud Scheduler tick
        return "schedule"
    proto = payload.get("protoPayload")
    if isinstance(proto, dict) and proto.get("serviceName") == "bigquery.googleapis.com":
        return "data_arrival"
    resource = payload.get("resource")
    if (
        isinstance(resource, dict)
        and resource.get("type") == "aiplatform.googleapis.com/PipelineJob"
    ):
        return "run_complete"
    return "drift"
