"""The event service: decode, route, apply policy, submit, record. I/O only through ports.

Every delivery ends in at least one recorded Decision. Permanent problems (undecodable or
unknown payloads, a backend refusing a request for good) become `rejected` and return
normally, so Pub/Sub stops redelivering; TransientError propagates so Pub/Sub redelivers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, get_args

from retrain.backends.base import RunBackend
from retrain.errors import BackendError, EventError, RetrainError, TransientError
from retrain.events.bigquery import decode_data_arrival
from retrain.events.drift import decode_drift
from retrain.events.envelope import Envelope, unwrap
from retrain.events.pipeline_job import decode_state_change
from retrain.events.schedule import decode_schedule_tick
from retrain.events.types import TERMINAL_STATES, DataArrival, Dismissed, DriftAlert, RunStateChange
from retrain.routing.decision import Decision, DecisionKind, DecisionLog, EventKind
from retrain.routing.index import SpecIndex
from retrain.routing.policy import (
    data_step,
    drift_decision,
    schedule_decision,
    window_bounds,
    window_of,
)
from retrain.runs import RunOutcome, RunRequest, Trigger
from retrain.spec import Spec
from retrain.state.base import EventRecord, StateStore

NONCE_ATTRIBUTE = "retrain-rerun-nonce"


class CompletionSink(Protocol):
    """What happens to a finished run (issue 4: compare and comment on the PR)."""

    def handle(self, outcome: RunOutcome) -> None: ...


class LoggingSink:
    """The fallback sink: one structured log line per finished run."""

    def handle(self, outcome: RunOutcome) -> None:
        line = {
            "severity": "INFO",
            "message": f"run {outcome.job_id} {outcome.state}",
            **outcome.model_dump(),
        }
        sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")


@dataclass
class Service:
    """One instance per process; the ports are built by `retrain.routing.wiring`."""

    index: Callable[[], SpecIndex]
    store: StateStore
    backend: RunBackend
    sink: Callable[[], CompletionSink]
    log: DecisionLog
    git_sha: str = ""

    # -- entry points: one per Cloud Function -------------------------------------------------

    def data_arrival(self, data: Any, event_id: str = "") -> list[Decision]:
        return self._handle("data_arrival", data, event_id)

    def drift_alert(self, data: Any, event_id: str = "") -> list[Decision]:
        return self._handle("drift", data, event_id)

    def run_complete(self, data: Any, event_id: str = "") -> list[Decision]:
        return self._handle("run_complete", data, event_id)

    def schedule_tick(self, data: Any, event_id: str = "") -> list[Decision]:
        return self._handle("schedule", data, event_id)

    # -- shared -------------------------------------------------------------------------------

    def _handle(self, kind: EventKind, data: Any, event_id: str) -> list[Decision]:
        outcome: RunOutcome | None = None
        try:
            envelope = unwrap(data)
            event_id = envelope.event_id or event_id
            if kind == "data_arrival":
                decisions = self._data(envelope, event_id)
            elif kind == "drift":
                decisions = self._drift(envelope, event_id)
            elif kind == "schedule":
                decisions = self._schedule(envelope, event_id)
            else:
                decisions, outcome = self._complete(envelope, event_id)
        except (EventError, BackendError) as exc:  # permanent: answer and acknowledge
            decisions = [
                Decision(decision="rejected", event=kind, event_id=event_id, reason=str(exc))
            ]
        for decision in decisions:
            self.log.record(decision)
        if outcome is not None:
            failed = self._hand_off(outcome, decisions[0])
            if failed is not None:
                self.log.record(failed)
                decisions.append(failed)
        return decisions

    def _hand_off(self, outcome: RunOutcome, decision: Decision) -> Decision | None:
        """After the decision is recorded; a permanent failure becomes a second, rejected one."""
        try:
            self.sink().handle(outcome)
        except TransientError:
            raise
        except RetrainError as exc:
            return decision.model_copy(
                update={"decision": "rejected", "reason": f"completion handler: {exc}"}
            )
        return None

    def _submit(
        self, spec: Spec, record: EventRecord, redelivered: bool, request: RunRequest
    ) -> tuple[DecisionKind, str]:
        """Submit a `run` record's job; ALREADY_EXISTS means another delivery got there first."""
        created = self.backend.submit(request)
        if created:
            return "run", (
                "resubmitted after an interrupted delivery: " if redelivered else ""
            ) + record.reason
        return "deduplicated", f"job {record.job_id} already exists ({spec.name})"

    def _start(
        self, spec: Spec, version: str, trigger: Trigger, record: EventRecord, event_id: str
    ) -> tuple[DecisionKind, str]:
        """Stateless triggers (drift, schedule): submit a `run` record, pass the rest through."""
        if record.decision != "run":
            return record.decision, record.reason
        request = RunRequest(
            job_id=record.job_id,
            spec=spec.name,
            spec_version=version,
            trigger=trigger,
            git_sha=self.git_sha,
            event_id=event_id,
        )
        return self._submit(spec, record, False, request)

    def _for_each_spec(
        self,
        kind: EventKind,
        index: SpecIndex,
        specs: list[Spec],
        event_id: str,
        key: str,
        no_spec: str,
        decide: Callable[[Spec, str], Decision],
    ) -> list[Decision]:
        """One decision per concerned spec (a permanent backend refusal is `rejected` for
        that spec alone); no concerned spec is one `ignored` answer."""
        if not specs:
            return [
                Decision(
                    decision="ignored", event=kind, event_id=event_id, event_key=key, reason=no_spec
                )
            ]
        decisions = []
        for spec in specs:
            try:
                decisions.append(decide(spec, index.version(spec.name)))
            except BackendError as exc:
                decisions.append(_refused(kind, spec, event_id, key, exc))
        return decisions

    # -- data arrival ---------------------------------------------------------------------------

    def _data(self, envelope: Envelope, event_id: str) -> list[Decision]:
        event = decode_data_arrival(envelope.payload)
        if isinstance(event, Dismissed):
            return [
                Decision(
                    decision="ignored", event="data_arrival", event_id=event_id, reason=event.reason
                )
            ]
        index = self.index()
        nonce = envelope.attributes.get(NONCE_ATTRIBUTE, "")
        return self._for_each_spec(
            "data_arrival",
            index,
            index.watching(event.table),
            event_id,
            event.key,
            f"no spec watches {event.table}",
            lambda spec, version: self._data_for(spec, version, event, event_id, nonce),
        )

    def _data_for(
        self, spec: Spec, version: str, event: DataArrival, event_id: str, nonce: str
    ) -> Decision:
        def decided(kind: DecisionKind, reason: str, job_id: str = "") -> Decision:
            return Decision(
                decision=kind,
                event="data_arrival",
                event_id=event_id,
                event_key=event.key,
                spec=spec.name,
                job_id=job_id,
                reason=reason,
            )

        policy = spec.triggers.data_arrival
        if policy is None:
            return decided("ignored", "spec has no data_arrival trigger")
        running = self.backend.running(spec.name)
        key = f"{event.key}#{nonce}" if nonce else event.key
        step = data_step(
            policy, spec=spec.name, version=version, event=event, running=running, nonce=nonce
        )
        transition = self.store.transact(spec.name, key, step)
        record = transition.record
        if record.decision != "run":
            if transition.redelivered:
                return decided(
                    "deduplicated",
                    f"seen before: {record.decision}: {record.reason}",
                    record.job_id,
                )
            return decided(record.decision, record.reason)
        request = RunRequest(
            job_id=record.job_id,
            spec=spec.name,
            spec_version=version,
            trigger="data_arrival",
            git_sha=self.git_sha,
            event_id=event_id,
            data_window=window_bounds(window_of(event.time, policy.debounce), policy.debounce),
        )
        kind, reason = self._submit(spec, record, transition.redelivered, request)
        return decided(kind, reason, record.job_id)

    # -- drift ----------------------------------------------------------------------------------

    def _drift(self, envelope: Envelope, event_id: str) -> list[Decision]:
        alert = decode_drift(envelope.payload)
        if isinstance(alert, Dismissed):
            return [
                Decision(decision="ignored", event="drift", event_id=event_id, reason=alert.reason)
            ]
        index = self.index()
        nonce = envelope.attributes.get(NONCE_ATTRIBUTE, "")
        return self._for_each_spec(
            "drift",
            index,
            index.for_models(alert.models),
            event_id,
            alert.key,
            f"no spec for model {', '.join(alert.models)}",
            lambda spec, version: self._drift_for(spec, version, alert, event_id, nonce),
        )

    def _drift_for(
        self, spec: Spec, version: str, alert: DriftAlert, event_id: str, nonce: str
    ) -> Decision:
        retrain = spec.triggers.drift.action == "retrain"
        running = self.backend.running(spec.name) if retrain else []
        record = drift_decision(spec, version=version, alert=alert, running=running, nonce=nonce)
        kind, reason = self._start(spec, version, "drift", record, event_id)
        return Decision(
            decision=kind,
            event="drift",
            event_id=event_id,
            event_key=alert.key,
            spec=spec.name,
            job_id=record.job_id,
            reason=reason,
            alert=spec.triggers.drift.action == "notify",
        )

    # -- schedule -------------------------------------------------------------------------------

    def _schedule(self, envelope: Envelope, event_id: str) -> list[Decision]:
        tick = decode_schedule_tick(envelope)
        index = self.index()
        spec = index.get(tick.spec)
        if spec is None:
            return [
                Decision(
                    decision="ignored",
                    event="schedule",
                    event_id=event_id,
                    event_key=tick.key,
                    reason=f"no spec {tick.spec!r} (a stale Cloud Scheduler job)",
                )
            ]
        version = index.version(spec.name)
        nonce = envelope.attributes.get(NONCE_ATTRIBUTE, "")
        try:
            running = self.backend.running(spec.name)
            record = schedule_decision(
                spec, version=version, tick=tick, running=running, nonce=nonce
            )
            kind, reason = self._start(spec, version, "schedule", record, event_id)
        except BackendError as exc:
            return [_refused("schedule", spec, event_id, tick.key, exc)]
        return [
            Decision(
                decision=kind,
                event="schedule",
                event_id=event_id,
                event_key=tick.key,
                spec=spec.name,
                job_id=record.job_id,
                reason=reason,
            )
        ]

    # -- run completion -------------------------------------------------------------------------

    def _complete(
        self, envelope: Envelope, event_id: str
    ) -> tuple[list[Decision], RunOutcome | None]:
        change = decode_state_change(envelope.payload)
        if isinstance(change, Dismissed):
            ignored = Decision(
                decision="ignored", event="run_complete", event_id=event_id, reason=change.reason
            )
            return [ignored], None
        outcome = self._outcome(change)
        if outcome is None:
            ignored = Decision(
                decision="ignored",
                event="run_complete",
                event_id=event_id,
                job_id=change.job_id,
                reason="not a retrain job (no retrain-spec label)",
            )
            return [ignored], None
        completed = Decision(
            decision="completed",
            event="run_complete",
            event_id=event_id,
            spec=outcome.spec,
            job_id=outcome.job_id,
            reason=f"{outcome.state}{': ' + outcome.error if outcome.error else ''}",
        )
        return [completed], outcome

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


def _refused(kind: EventKind, spec: Spec, event_id: str, key: str, exc: BackendError) -> Decision:
    """The backend refused for good (permission, bad template): redelivering cannot help, so
    the event is answered `rejected` and acknowledged."""
    return Decision(
        decision="rejected",
        event=kind,
        event_id=event_id,
        event_key=key,
        spec=spec.name,
        reason=f"backend refused: {exc}",
    )
