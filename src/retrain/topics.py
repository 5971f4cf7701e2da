"""The topics the functions listen on, and the port that publishes to them: a JSON payload on a
named topic (Pub/Sub in the cloud and in the local stack, `retrain.google.pubsub`; tests record
what was published). Terraform, the deploy commands and `retrain up` all take the names here."""

from __future__ import annotations

from typing import Any, Protocol

DEAD_LETTER_TOPIC = "retrain-dead-letter"
# function -> the topic it is pushed from
TOPICS = {
    "on_data_arrival": "retrain-data-arrival",
    "on_drift_alert": "retrain-drift-alert",
    "on_run_complete": "retrain-run-complete",
    "on_schedule": "retrain-schedule",  # Cloud Scheduler ticks (delivery.names.SCHEDULE_TOPIC)
}


class Publisher(Protocol):
    def publish(self, topic: str, payload: dict[str, Any], attributes: dict[str, str]) -> None:
        """Publish and wait until the topic has it; vendor errors leave as RetrainErrors."""
        ...
