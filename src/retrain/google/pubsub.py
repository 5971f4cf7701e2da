"""Pub/Sub through google-cloud-pubsub: publishing JSON messages (run completions, drift alerts,
wake-up ticks) and wiring the local stack's topics and push subscriptions in the emulator."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from retrain.vendor_errors import translated

PUBLISH_TIMEOUT = 30.0  # seconds to wait for the topic to acknowledge one message


class PubSubPublisher:
    """Publishes JSON to a Pub/Sub topic: the emulator at `emulator_host` when given, else
    wherever the client library's environment points (PUBSUB_EMULATOR_HOST when set). The
    client is built at first use; every vendor error leaves as one of ours (`translated`)."""

    def __init__(self, project: str, emulator_host: str = "") -> None:
        self._project = project
        self._emulator_host = emulator_host
        self._client: Any = None

    def publish(self, topic: str, payload: dict[str, Any], attributes: dict[str, str]) -> None:
        with translated(f"publishing to topic {topic}"):
            if self._client is None:
                from google.cloud import pubsub_v1  # type: ignore[attr-defined]

                self._client = pubsub_v1.PublisherClient(**_emulator_transport(self._emulator_host))
            path = self._client.topic_path(self._project, topic)
            data = json.dumps(payload).encode()
            self._client.publish(path, data, **attributes).result(timeout=PUBLISH_TIMEOUT)


def _emulator_transport(host: str) -> dict[str, Any]:
    """The plaintext channel the emulator speaks, what PublisherClient itself builds from
    PUBSUB_EMULATOR_HOST (google/cloud/pubsub_v1/publisher/client.py, `Client.__init__`)."""
    if not host:
        return {}
    import grpc  # type: ignore[import-untyped]
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

    return {"transport": PublisherGrpcTransport(channel=grpc.insecure_channel(host))}


def wire_topics(
    project: str,
    topics: Mapping[str, str],
    endpoints: Mapping[str, str],
    dead_letter_topic: str,
    max_delivery_attempts: int,
) -> None:
    """Topics (`topics`: function -> topic), a dead-letter topic with a pull subscription
    keeping what lands there, and a push subscription per function that has an endpoint.
    Idempotent. For the emulator (`retrain up`); in the cloud Terraform does this."""
    from google.api_core import exceptions as api
    from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    dead_letter = publisher.topic_path(project, dead_letter_topic)

    def ensure(call: Any, **request: Any) -> None:
        with contextlib.suppress(api.AlreadyExists):
            call(request=request)

    with translated("wiring the Pub/Sub emulator"):
        ensure(publisher.create_topic, name=dead_letter)
        ensure(
            subscriber.create_subscription,
            name=subscriber.subscription_path(project, dead_letter_topic),
            topic=dead_letter,
        )
        for target, topic in topics.items():
            topic_path = publisher.topic_path(project, topic)
            ensure(publisher.create_topic, name=topic_path)
            if target not in endpoints:
                continue
            ensure(
                subscriber.create_subscription,
                name=subscriber.subscription_path(project, f"{topic}-push"),
                topic=topic_path,
                push_config={"push_endpoint": endpoints[target]},
                ack_deadline_seconds=60,
                dead_letter_policy={
                    "dead_letter_topic": dead_letter,
                    "max_delivery_attempts": max_delivery_attempts,
                },
            )
    subscriber.close()
