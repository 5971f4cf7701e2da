"""Finished-run events: a PipelineJob state change becomes a RunOutcome for the completion sink.

The log entry only says which job to look at: anyone who can publish to the topic can forge
one. The backend's own job is the truth: its labels, state and output location win over the
entry's; the job must exist, belong to the spec it is labelled with (job ids start with the
spec's name), and that spec must be in the index; a PR label must be ASCII digits; the run's
output must lie under the configured runs root, where the summary will be read.

Labels are hints, never proof (a PR's candidate run writes its own). A run is production only
when the backend says it ran as production's pipelines identity, from a production template,
exactly under its spec's production root (`ProductionRuns.refusal`); every other job is a
candidate, whatever its trigger label says, and completion never lets it act on production.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from retrain.backends.base import JobInfo, ProductionRuns, RunBackend
from retrain.blobs import is_under
from retrain.errors import EventError
from retrain.events.envelope import Envelope
from retrain.events.pipeline_job import decode_state_change
from retrain.events.types import TERMINAL_STATES, Dismissed, RunStateChange
from retrain.routing.answer import Answer, Finished
from retrain.routing.decision import Delivery
from retrain.routing.index import SpecIndex
from retrain.runs import RunOutcome, Trigger

PR_NUMBER = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)


@dataclass
class RunCompletion:
    backend: RunBackend
    index: Callable[[], SpecIndex]
    runs_root: str = ""  # where runs write; "" only in tests and dry runs
    production: ProductionRuns | None = None  # None: no job is production (dry runs)

    def __call__(self, envelope: Envelope, delivery: Delivery) -> Answer:
        change = decode_state_change(envelope.payload)
        if isinstance(change, Dismissed):
            return Answer([delivery.decide("ignored", change.reason)])
        found = self._outcome(change)
        if found is None:
            reason = "not a retrain job (no retrain-spec label)"
            return Answer([delivery.decide("ignored", reason, job_id=change.job_id)])
        return Answer([], (self.finished(*found, delivery),))

    def lost(self, job_id: str, delivery: Delivery, now: datetime) -> Finished | None:
        """A run whose completion event never reached us, found by the wake-up: the backend
        alone says whether it ended (None while it has not)."""
        info = self.backend.describe(job_id)
        if info is None or info.state not in TERMINAL_STATES:
            return None
        change = RunStateChange(
            job_id=job_id,
            job_name=job_id,
            state=info.state,
            labels={},
            time=now,
        )
        found = self._outcome(change)
        if found is None:
            return None
        note = " (its completion event was lost: found by the wake-up)"
        return self.finished(*found, delivery, note=note)

    @staticmethod
    def finished(
        outcome: RunOutcome, not_production: str, delivery: Delivery, note: str = ""
    ) -> Finished:
        if not_production and outcome.trigger != "pull_request":
            note += f" (a candidate run, not production: {not_production})"
        completed = delivery.decide(
            "completed",
            f"{outcome.state}{': ' + outcome.error if outcome.error else ''}{note}",
            spec=outcome.spec,
            job_id=outcome.job_id,
        )
        return Finished(outcome, completed)

    def _job(self, change: RunStateChange) -> JobInfo | None:
        info = self.backend.describe(change.job_id)
        if info is None and "retrain-spec" in change.labels:
            raise EventError(
                f"run {change.job_id}: the backend has no such job (the entry is not trusted)"
            )
        return info

    def _outcome(self, change: RunStateChange) -> tuple[RunOutcome, str] | None:
        """The outcome, and why the job is not a production run (empty when it is)."""
        info = self._job(change)
        if info is None:
            return None
        labels = {**change.labels, **info.labels}
        spec = labels.get("retrain-spec")
        if not spec:
            return None
        where = f"run {change.job_id}"
        if self.index().get(spec) is None:
            raise EventError(f"{where}: spec {spec[:80]!r} is not in the index")
        if not change.job_id.startswith(f"{spec}-"):
            raise EventError(f"{where}: the job does not belong to spec {spec!r}")
        state = info.state or change.state
        if state not in TERMINAL_STATES:
            raise EventError(f"{where}: the backend reports {state[:40]!r}, not finished")
        root = info.pipeline_root or change.pipeline_root
        if self.runs_root and not is_under(root, self.runs_root):
            raise EventError(f"{where}: its output {root[:200]!r} is not under the runs root")
        trigger = labels.get("retrain-trigger", "manual")
        not_production = (
            self.production.refusal(info, spec)
            if self.production is not None
            else "no production identity is configured"
        )
        pr = labels.get("retrain-pr", "")
        if pr and not PR_NUMBER.fullmatch(pr):
            raise EventError(f"{where}: PR label {pr[:20]!r} is not a PR number")
        try:
            outcome = RunOutcome(
                job_id=change.job_id,
                spec=spec,
                state=TERMINAL_STATES[state],
                trigger=trigger if trigger in get_args(Trigger) else "manual",
                git_sha=labels.get("retrain-git-sha", ""),
                pr_number=int(pr) if pr else None,
                event_id=labels.get("retrain-event", ""),
                pipeline_root=root,
                failed_task=change.failed_task,
                error=info.error or change.error,
                production=not not_production,
            )
        except ValueError as exc:
            raise EventError(f"{where}: {exc}") from exc
        return outcome, not_production
