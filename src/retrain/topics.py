"""The message-publishing port: a JSON payload on a named topic (Pub/Sub in the cloud and in the
local stack, `retrain.google.pubsub.PubSubPublisher`; tests record what was published)."""

from __future__ import annotations

from typing import Any, Protocol


class Publisher(Protocol):
    def publish(self, topic: str, payload: dict[str, Any], attributes: dict[str, str]) -> None:
        """Publish and wait until the topic has it; vendor errors leave as RetrainErrors."""
        ...
