"""Cloud Function entry points: CloudEvent in, decision out. Thin on purpose.

Deliberately light at import (cold starts): only functions_framework is imported here; the
core, the settings (RETRAIN_* environment, `retrain.settings`) and the adapters
(`retrain.wiring`) are loaded when the first event arrives. Returning normally acknowledges
the message (rejected events included); raising (TransientError) makes Pub/Sub redeliver it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import functions_framework

if TYPE_CHECKING:
    from retrain.routing.service import Service

_service: Service | None = None


def use_service(service: Service | None) -> None:
    """Replace the service (tests inject one built on fakes); None rebuilds from settings."""
    global _service
    _service = service


def service() -> Service:
    global _service
    if _service is None:
        import os

        from retrain.settings import Settings
        from retrain.wiring import build_service

        _service = build_service(Settings.from_env(os.environ))  # once, at the first event
    return _service


def _event_id(cloud_event: Any) -> str:
    return str(cloud_event["id"]) if "id" in cloud_event else ""


@functions_framework.cloud_event
def on_data_arrival(cloud_event: Any) -> None:
    """BigQuery audit log entries (via a log sink and Pub/Sub) -> pipeline runs."""
    service().handle("data_arrival", cloud_event.data, _event_id(cloud_event))


@functions_framework.cloud_event
def on_drift_alert(cloud_event: Any) -> None:
    """Model Monitoring / TFDV anomalies -> retrain, notify or ignore, as the spec says."""
    service().handle("drift", cloud_event.data, _event_id(cloud_event))


@functions_framework.cloud_event
def on_run_complete(cloud_event: Any) -> None:
    """PipelineJob state changes -> RunOutcome, handed to the completion sink."""
    service().handle("run_complete", cloud_event.data, _event_id(cloud_event))


@functions_framework.cloud_event
def on_schedule(cloud_event: Any) -> None:
    """Cloud Scheduler ticks of a spec's cron -> one pipeline run per tick."""
    service().handle("schedule", cloud_event.data, _event_id(cloud_event))
