"""A finished run's data anomalies, published as a drift alert so the spec's drift policy
decides (retrain, notify, ignore) as it does for Model Monitoring alerts.

The alert is the TFDV shape `on_drift_alert` decodes (`retrain.events.drift`): `{"spec",
"run_id", "anomalies": <Anomalies as JSON>}`; its key is `tfdv:<spec>:<run id>`, so a
redelivered completion event publishes the same alert and the drift route starts no second run
(its job id names the debounce window).

No loop: a run a drift alert started never publishes one. It reads the data that raised the
alert (or data as new), so its anomalies would only raise the alert again; they are still in
its summary and comment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from retrain.anomalies import Finding, anomalies_json
from retrain.errors import RetrainError, TransientError
from retrain.runs import RunOutcome
from retrain.topics import Publisher

log = logging.getLogger(__name__)


class AlertSink(Protocol):
    def publish(self, alert: dict[str, Any]) -> None: ...


@dataclass
class TopicAlerts:
    """Alerts to the drift-alert topic, the one `on_drift_alert` reads."""

    publisher: Publisher
    topic: str

    def publish(self, alert: dict[str, Any]) -> None:
        """Best effort: a refused topic is logged, never a lost comment (the run's anomalies
        are in its summary and comment all the same). A transient failure is raised, so the
        completion event is redelivered; the alert's key makes a second copy harmless."""
        attributes = {"retrain-spec": str(alert["spec"]), "retrain-run": str(alert["run_id"])}
        try:
            self.publisher.publish(self.topic, alert, attributes)
        except TransientError:
            raise
        except RetrainError as exc:
            log.warning("anomalies of %s not published to %s: %s", alert["run_id"], self.topic, exc)
            return
        log.info("anomalies of %s published to %s", alert["run_id"], self.topic)


class NoAlerts:
    """Where no topic is configured (`retrain route`, tests): alerts go to the log only."""

    def publish(self, alert: dict[str, Any]) -> None:
        log.info("anomalies of %s not published (no drift topic)", alert.get("run_id"))


def anomaly_alert(
    outcome: RunOutcome, findings: list[Finding], finished_at: str = ""
) -> dict[str, Any] | None:
    """The drift alert for a run's anomalies, or None: no anomalies, or a drift-started run."""
    if not findings or outcome.trigger == "drift":
        return None
    alert: dict[str, Any] = {
        "spec": outcome.spec,
        "run_id": outcome.job_id,
        "anomalies": anomalies_json(findings),
    }
    if finished_at:
        alert["timestamp"] = finished_at
    return alert
