"""Finished-run events: a PipelineJob state change becomes a RunOutcome for the completion sink.

It shares nothing with the triggering handlers but the answer: no spec index, no state, no
submit; only the backend's `describe`, for what the log entry does not carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from retrain.backends.base import RunBackend
from retrain.errors import EventError
from retrain.events.envelope import Envelope
from retrain.events.pipeline_job import decode_state_change
from retrain.events.types import TERMINAL_STATES, Dismissed, RunStateChange
from retrain.routing.answer import Answer
from retrain.routing.decision import Delivery
from retrain.runs import RunOutcome, Trigger


@dataclass
class RunCompletion:
    backend: RunBackend

    def __call__(self, envelope: Envelope, delivery: Delivery) -> Answer:
        change = decode_state_change(envelope.payload)
        if isinstance(change, Dismissed):
            return Answer([delivery.decide("ignored", change.reason)])
        outcome = self._outcome(change)
        if outcome is None:
            reason = "not a retrain job (no retrain-spec label)"
            return Answer([delivery.decide("ignored", reason, job_id=change.job_id)])
        completed = delivery.decide(
            "completed",
            f"{outcome.state}{': ' + outcome.error if outcome.error else ''}",
            spec=outcome.spec,
            job_id=outcome.job_id,
        )
        return Answer([completed], outcome)

    def _outcome(self, change: RunStateChange) -> RunOutcome | None:
        labels, root, error = change.labels, change.pipeline_root, change.error
        if "retrain-spec" not in labels or not root:
            info = self.backend.describe(change.job_id)
            if info is not None:
                labels = {**info.labels, **labels}
                root = root or info.pipeline_root
                error = error or info.error
        spec = labels.get("retrain-spec")
        if not spec:
            return None
        trigger = labels.get("retrain-trigger", "manual")
        pr = labels.get("retrain-pr", "")
        try:
            return RunOutcome(
                job_id=change.job_id,
                spec=spec,
                state=TERMINAL_STATES[change.state],
                trigger=trigger if trigger in get_args(Trigger) else "manual",
                git_sha=labels.get("retrain-git-sha", ""),
                pr_number=int(pr) if pr.isdigit() else None,
                event_id=labels.get("retrain-event", ""),
                pipeline_root=root,
                failed_task=change.failed_task,
                error=error,
            )
        except ValueError as exc:
            raise EventError(f"run {change.job_id}: {exc}") from exc
