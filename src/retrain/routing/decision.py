"""The answer every event gets, and its Cloud Logging form (one JSON object per line)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Literal, Protocol, TextIO

from pydantic import BaseModel, ConfigDict

from retrain.redact import redact_all

DecisionKind = Literal["run", "deduplicated", "debounced", "ignored", "rejected", "completed"]
EventKind = Literal["data_arrival", "drift", "run_complete", "schedule"]

_SEVERITY: dict[str, str] = {
    "run": "NOTICE",
    "completed": "NOTICE",
    "deduplicated": "INFO",
    "debounced": "INFO",
    "ignored": "INFO",
    "rejected": "WARNING",
}


class Decision(BaseModel):
    """What was decided for one (event, spec); `spec` is empty when no spec was involved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: DecisionKind
    event: EventKind
    event_id: str
    reason: str
    spec: str = ""
    job_id: str = ""
    event_key: str = ""
    alert: bool = False  # someone should look (drift with action notify): logged as WARNING

    def summary(self) -> dict[str, str]:
        """The dry-run output of `retrain route`."""
        return {
            "decision": self.decision,
            "spec": self.spec,
            "job_id": self.job_id,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Delivery:
    """One delivery being answered: what every Decision about it repeats."""

    event: EventKind
    event_id: str
    key: str = ""

    def keyed(self, key: str) -> Delivery:
        return replace(self, key=key)

    def decide(
        self,
        decision: DecisionKind,
        reason: str,
        *,
        spec: str = "",
        job_id: str = "",
        alert: bool = False,
    ) -> Decision:
        return Decision(
            decision=decision,
            event=self.event,
            event_id=self.event_id,
            event_key=self.key,
            spec=spec,
            job_id=job_id,
            reason=reason,
            alert=alert,
        )


def log_record(decision: Decision, severity: str | None = None) -> dict[str, Any]:
    """A structured log line as Cloud Logging reads it from stdout (severity, message, labels);
    every string redacted: reasons carry error texts from runs and vendors."""
    head = " ".join(
        p for p in (decision.event, decision.decision, decision.spec, decision.job_id) if p
    )
    record = {
        "severity": severity or ("WARNING" if decision.alert else _SEVERITY[decision.decision]),
        "message": f"{head}: {decision.reason}",
        "logging.googleapis.com/labels": {
            "retrain-event": decision.event,
            "retrain-decision": decision.decision,
        },
        **decision.model_dump(),
    }
    return dict(redact_all(record))


class DecisionLog(Protocol):
    """Where decisions are recorded."""

    def record(self, decision: Decision) -> None: ...


class StdoutLog:
    """Cloud Functions ships stdout lines that are JSON objects as structured entries. Each
    carries `time` (RFC 3339), which Cloud Logging takes as the entry's timestamp (structured
    logging's special fields), so a local log file says when too."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], datetime] | None = None):
        self._stream = stream
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def record(self, decision: Decision) -> None:
        stream = self._stream or sys.stdout
        line = {**log_record(decision), "time": self._clock().isoformat(timespec="milliseconds")}
        stream.write(json.dumps(line, sort_keys=True) + "\n")
        stream.flush()


class MemoryLog:
    """Keeps decisions in a list: for tests and the dry run."""

    def __init__(self) -> None:
        self.decisions: list[Decision] = []

    def record(self, decision: Decision) -> None:
        self.decisions.append(decision)
