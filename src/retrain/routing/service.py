"""The event service: decode, route, apply policy, submit, record. I/O only through ports.

Every delivery ends in at least one recorded Decision. Permanent problems (undecodable or
unknown payloads, a backend refusing a request for good) become `rejected` and return
normally, so Pub/Sub stops redelivering; TransientError propagates so Pub/Sub redelivers.
One table maps each event kind to its handler; finished runs have their own
(`routing.run_complete`), the triggering kinds share the per-spec fan-out and the submit.
Data-arrival runs are claimed in the state transaction, then submitted, then marked accepted
(or given back when refused); the wake-up tick and the end of each run start what became due.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from retrain.backends.base import RunBackend
from retrain.baseline import no_baseline
from retrain.completion.notices import NoNotices, NoticeSink
from retrain.errors import BackendError, EventError, RetrainError, TransientError
from retrain.events.bigquery import decode_data_arrival
from retrain.events.drift import decode_drift
from retrain.events.envelope import Envelope, unwrap
from retrain.events.fields import EPOCH, timestamp
from retrain.events.schedule import decode_flush_tick, decode_schedule_tick, is_flush
from retrain.events.types import (
    DataArrival,
    Dismissed,
    DriftAlert,
    ScheduleTick,
    TableSchemaChange,
)
from retrain.report.notice import Problem
from retrain.routing.answer import Answer
from retrain.routing.decision import Decision, DecisionKind, DecisionLog, Delivery, EventKind
from retrain.routing.index import SpecIndex
from retrain.routing.policy import (
    accepted,
    data_step,
    drift_decision,
    finished,
    flush_step,
    given_back,
    schedule_decision,
    stale_step,
    stalled,
)
from retrain.routing.run_complete import RunCompletion
from retrain.routing.table_schema import schema_verdict
from retrain.runs import Baseline, RunOutcome, RunRequest, Trigger, data_window, snapshot_time
from retrain.spec import Spec
from retrain.state.base import Claim, EventRecord, StateStore

NONCE_ATTRIBUTE = "retrain-rerun-nonce"
Handler = Callable[[Envelope, Delivery], Answer]


class CompletionSink(Protocol):
    """What happens to a finished run: compare and comment on its PR, or propose a promotion."""

    def handle(self, outcome: RunOutcome) -> None: ...


@dataclass
class Service:
    """One instance per process; the ports are built by `retrain.wiring`."""

    index: Callable[[], SpecIndex]
    store: StateStore
    backend: RunBackend
    sink: Callable[[], CompletionSink]
    log: DecisionLog
    git_sha: str = ""
    notices: Callable[[], NoticeSink] = NoNotices
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    runs_root: str = ""  # finished runs must have written under it ("" in tests: anywhere)
    # Production's model for a spec of the index (the default branch): every run's baseline.
    baselines: Callable[[Spec], Baseline] = no_baseline
    handlers: dict[EventKind, Handler] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.handlers = {
            "data_arrival": self._data,
            "drift": self._drift,
            "schedule": self._schedule,
            "run_complete": self._complete,
        }
        self._completion = RunCompletion(self.backend, self.index, self.runs_root)

    def handle(self, kind: EventKind, data: Any, event_id: str = "") -> list[Decision]:
        """Answer one delivery of an event of `kind` (raw bytes, a push body or an entry)."""
        delivery = Delivery(kind, event_id)
        try:
            envelope = unwrap(data)
            delivery = Delivery(kind, envelope.event_id or event_id)
            answer = self.handlers[kind](envelope, delivery)
        except (EventError, BackendError) as exc:  # permanent: answer and acknowledge
            answer = Answer([delivery.decide("rejected", str(exc))])
        decisions = list(answer.decisions)
        for decision in decisions:
            self.log.record(decision)
        if answer.outcome is not None:
            failed = self._hand_off(answer.outcome, decisions[0])
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

    # -- shared by the triggering kinds ---------------------------------------------------------

    def _submit(
        self,
        spec: Spec,
        version: str,
        trigger: Trigger,
        record: EventRecord,
        event_id: str,
        snapshot: datetime,
        *,
        redelivered: bool = False,
    ) -> tuple[DecisionKind, str]:
        """Submit a `run` record's job, pass any other record through. ALREADY_EXISTS means
        another delivery got there first."""
        if record.decision != "run":
            return record.decision, record.reason
        request = RunRequest(
            job_id=record.job_id,
            spec=spec.name,
            spec_version=version,
            trigger=trigger,
            git_sha=self.git_sha,
            event_id=event_id,
            data_window=data_window(spec.data.window, snapshot_time(snapshot)),
            data_snapshot=snapshot_time(snapshot),
            baseline=self.baselines(spec),
        )
        if self.backend.submit(request):
            again = "resubmitted after an interrupted delivery: " if redelivered else ""
            return "run", again + record.reason
        return "deduplicated", f"job {record.job_id} already exists ({spec.name})"

    def _for_each_spec(
        self,
        delivery: Delivery,
        specs: list[Spec],
        no_spec: str,
        decide: Callable[[Spec, str], Decision],
    ) -> Answer:
        """One decision per concerned spec (a permanent backend refusal is `rejected` for
        that spec alone); no concerned spec is one `ignored` answer."""
        if not specs:
            return Answer([delivery.decide("ignored", no_spec)])
        index = self.index()
        decisions = []
        for spec in specs:
            try:
                decisions.append(decide(spec, index.version(spec.name)))
            except BackendError as exc:
                self._notify(
                    Problem(
                        spec=spec.name,
                        kind="refused",
                        summary=f"the backend refused to start a {delivery.event} run",
                        component="submit",
                        error=str(exc),
                        trigger=delivery.event,
                        event_id=delivery.event_id,
                    ),
                    delivery,
                )
                decisions.append(_refused(delivery, spec, exc))
        return Answer(decisions)

    # -- data arrival ---------------------------------------------------------------------------

    def _data(self, envelope: Envelope, delivery: Delivery) -> Answer:
        event = decode_data_arrival(envelope.payload)
        if isinstance(event, Dismissed):
            return Answer([delivery.decide("ignored", event.reason)])
        if isinstance(event, TableSchemaChange):
            return self._table_change(event, delivery.keyed(event.key))
        nonce = envelope.attributes.get(NONCE_ATTRIBUTE, "")
        delivery = delivery.keyed(event.key)
        return self._for_each_spec(
            delivery,
            self.index().watching(event.table),
            f"no spec watches {event.table}",
            lambda spec, version: self._data_for(spec, version, event, delivery, nonce),
        )

    def _table_change(self, change: TableSchemaChange, delivery: Delivery) -> Answer:
        """Decided at once, no run: an alert (and the spec's notice) when a column the spec
        reads is gone or retyped; a notice in the log for columns it does not read."""

        def decide(spec: Spec, version: str) -> Decision:
            del version
            verdict = schema_verdict(spec, change)
            if verdict.level == "alert":
                problem = Problem(
                    spec=spec.name,
                    kind="schema_drift",
                    summary=verdict.reason,
                    trigger="data_arrival",
                    event_id=delivery.event_id,
                )
                self._notify(problem, delivery)
            return delivery.decide(
                "ignored", verdict.reason, spec=spec.name, alert=verdict.level == "alert"
            )

        return self._for_each_spec(
            delivery, self.index().watching(change.table), f"no spec watches {change.table}", decide
        )

    def _data_for(
        self, spec: Spec, version: str, event: DataArrival, delivery: Delivery, nonce: str
    ) -> Decision:
        policy = spec.triggers.data_arrival
        if policy is None:
            return delivery.decide("ignored", "spec has no data_arrival trigger", spec=spec.name)
        running = self.backend.running(spec.name)
        key = f"{event.key}#{nonce}" if nonce else event.key
        step = data_step(
            policy,
            spec=spec.name,
            version=version,
            event=event,
            running=running,
            now=self.clock(),
            event_id=delivery.event_id,
            nonce=nonce,
        )
        transition = self.store.transact(spec.name, key, step)
        record = transition.record
        if record.decision != "run" and transition.redelivered:
            return delivery.decide(
                "deduplicated",
                f"seen before: {record.decision}: {record.reason}",
                spec=spec.name,
                job_id=record.job_id,
            )
        if record.decision != "run":
            return delivery.decide(record.decision, record.reason, spec=spec.name)
        if transition.redelivered:
            return self._resume(spec, transition.claim, record, delivery)
        claim = transition.state.claim(record.job_id) if transition.state else None
        if claim is None:  # cannot happen: the step that decides `run` writes the claim
            raise RetrainError(f"run {record.job_id} was decided without its claim")
        return self._start(spec, claim, record.reason, delivery, resumed=transition.redelivered)

    def _resume(
        self, spec: Spec, claim: Claim | None, record: EventRecord, delivery: Delivery
    ) -> Decision:
        """A redelivery of the event that claimed a run: submit it again only while the claim
        is unsettled (an interrupted start). Once accepted, or refused and its rows given
        back, there is nothing to start: a fresh submit would be a run without rows."""
        if claim is None or claim.accepted:
            what = "already exists" if claim else "was settled (run accepted, or refused)"
            return delivery.decide(
                "deduplicated",
                f"job {record.job_id} {what} ({spec.name})",
                spec=spec.name,
                job_id=record.job_id,
            )
        return self._start(spec, claim, record.reason, delivery, resumed=True)

    def _start(
        self, spec: Spec, claim: Claim, reason: str, delivery: Delivery, *, resumed: bool
    ) -> Decision:
        """Submit a claimed run, then settle the claim: accepted, or its rows given back.
        A transient failure leaves the claim for a redelivery or the wake-up to resubmit."""
        request = RunRequest(
            job_id=claim.job_id,
            spec=spec.name,
            spec_version=claim.version,
            trigger="data_arrival",
            git_sha=self.git_sha,
            event_id=claim.event_id,
            data_window=data_window(spec.data.window, snapshot_time(claim.claimed_at)),
            data_snapshot=snapshot_time(claim.claimed_at),  # decided then; resubmits agree
            baseline=self.baselines(spec),
        )
        try:
            created = self.backend.submit(request)
        except BackendError as exc:
            self.store.update(spec.name, given_back(claim.job_id))
            self._notify(
                Problem(
                    spec=spec.name,
                    kind="refused",
                    summary="the backend refused to start a run; its rows wait for the next window",
                    component="submit",
                    error=str(exc),
                    job_id=claim.job_id,
                    trigger="data_arrival",
                    event_id=delivery.event_id,
                ),
                delivery,
            )
            return _refused(delivery, spec, exc)
        if created or resumed:  # an existing job is ours when we are resuming our own claim
            self.store.update(spec.name, accepted(claim.job_id, self.clock()))
            again = "resubmitted after an interrupted delivery: " if resumed else ""
            kind: DecisionKind = "run" if created else "deduplicated"
            text = again + reason if created else f"job {claim.job_id} already exists ({spec.name})"
            return delivery.decide(kind, text, spec=spec.name, job_id=claim.job_id)
        self.store.update(spec.name, given_back(claim.job_id))
        return delivery.decide(
            "deduplicated",
            f"job {claim.job_id} already exists ({spec.name}); its rows wait for the next window",
            spec=spec.name,
            job_id=claim.job_id,
        )

    def _notify(self, problem: Problem, delivery: Delivery) -> None:
        """A notice is best effort beside the decision: a code host refusing it is logged,
        a transient failure redelivers the event (posting it is idempotent)."""
        try:
            self.notices().report(problem)
        except TransientError:
            raise
        except RetrainError as exc:
            self.log.record(
                delivery.decide("rejected", f"failure notice not posted: {exc}", spec=problem.spec)
            )

    # -- wake-up --------------------------------------------------------------------------------

    def _flush(self, delivery: Delivery) -> Answer:
        """Every spec: resubmit interrupted claims, start runs that became due, say when a
        spec went stale. Only what happened is a decision; a quiet tick is one `ignored`."""
        index = self.index()
        decisions: list[Decision] = []
        for spec in index.specs():
            try:
                decisions += self._flush_spec(spec, index.version(spec.name), delivery)
            except BackendError as exc:
                decisions.append(_refused(delivery, spec, exc))
        return Answer(decisions or [delivery.decide("ignored", "wake-up: nothing due")])

    def _flush_spec(self, spec: Spec, version: str, delivery: Delivery) -> list[Decision]:
        policy = spec.triggers.data_arrival
        limit = spec.triggers.max_staleness
        if policy is None and limit is None:
            return []
        now = self.clock()
        decisions = []
        if policy is not None:
            running = self.backend.running(spec.name)
            step = flush_step(policy, spec=spec.name, version=version, running=running, now=now)
            transition = self.store.update(spec.name, step)
            state = transition.state
            for claim in stalled(state, now) if state else []:
                reason = "wake-up: resubmitting an interrupted start"
                decisions.append(self._start(spec, claim, reason, delivery, resumed=True))
            record = transition.record
            if record.decision == "run" and state is not None:
                taken = state.claim(record.job_id)
                if taken is not None:
                    reason = f"wake-up: {record.reason}"
                    decisions.append(self._start(spec, taken, reason, delivery, resumed=False))
        if limit is not None:
            decisions += self._check_staleness(spec, limit, now, delivery)
        return decisions

    def _check_staleness(
        self, spec: Spec, limit: str, now: datetime, delivery: Delivery
    ) -> list[Decision]:
        stale = self.store.update(spec.name, stale_step(limit, now)).record.reason
        if not stale:
            return []
        problem = Problem(spec=spec.name, kind="stale", summary=stale, event_id=delivery.event_id)
        self._notify(problem, delivery)
        return [delivery.decide("ignored", f"stale: {stale}", spec=spec.name, alert=True)]

    # -- finished runs --------------------------------------------------------------------------

    def _complete(self, envelope: Envelope, delivery: Delivery) -> Answer:
        """The run's claim is spent, its slot free: start what waited for it at once."""
        answer = self._completion(envelope, delivery)
        outcome = answer.outcome
        if outcome is None:
            return answer
        index = self.index()
        spec = index.get(outcome.spec)
        if spec is None:
            return answer
        counts = outcome.trigger != "pull_request"
        self.store.update(
            spec.name,
            finished(
                outcome.job_id,
                succeeded=outcome.state == "succeeded",
                counts=counts,
                now=self.clock(),
            ),
        )
        try:
            more = self._flush_spec(spec, index.version(spec.name), delivery)
        except BackendError as exc:
            more = [_refused(delivery, spec, exc)]
        return Answer([*answer.decisions, *more], outcome)

    # -- drift ----------------------------------------------------------------------------------

    def _drift(self, envelope: Envelope, delivery: Delivery) -> Answer:
        alert = decode_drift(envelope.payload)
        if isinstance(alert, Dismissed):
            return Answer([delivery.decide("ignored", alert.reason)])
        if alert.time == EPOCH and envelope.publish_time:  # debounced by when it was published
            alert = alert.model_copy(update={"time": timestamp({"t": envelope.publish_time}, "t")})
        nonce = envelope.attributes.get(NONCE_ATTRIBUTE, "")
        delivery = delivery.keyed(alert.key)
        return self._for_each_spec(
            delivery,
            self.index().for_models(alert.models),
            f"no spec for model {', '.join(alert.models)}",
            lambda spec, version: self._drift_for(spec, version, alert, delivery, nonce),
        )

    def _drift_for(
        self, spec: Spec, version: str, alert: DriftAlert, delivery: Delivery, nonce: str
    ) -> Decision:
        action = spec.triggers.drift.action
        running = self.backend.running(spec.name) if action == "retrain" else []
        record = drift_decision(spec, version=version, alert=alert, running=running, nonce=nonce)
        kind, reason = self._submit(spec, version, "drift", record, delivery.event_id, alert.time)
        return delivery.decide(
            kind, reason, spec=spec.name, job_id=record.job_id, alert=action == "notify"
        )

    # -- schedule -------------------------------------------------------------------------------

    def _schedule(self, envelope: Envelope, delivery: Delivery) -> Answer:
        if is_flush(envelope):
            decode_flush_tick(envelope)
            return self._flush(delivery.keyed("flush"))
        tick = decode_schedule_tick(envelope)
        delivery = delivery.keyed(tick.key)
        index = self.index()
        spec = index.get(tick.spec)
        if spec is None:
            return Answer(
                [delivery.decide("ignored", f"no spec {tick.spec!r} (a stale Cloud Scheduler job)")]
            )
        nonce = envelope.attributes.get(NONCE_ATTRIBUTE, "")
        return self._for_each_spec(
            delivery,
            [spec],
            "",
            lambda spec, version: self._schedule_for(
                spec, version, tick, delivery, nonce, self._published(envelope)
            ),
        )

    def _published(self, envelope: Envelope) -> datetime:
        """When the tick was published (its data snapshot); the clock when it does not say."""
        if envelope.publish_time:
            try:
                return timestamp({"t": envelope.publish_time}, "t")
            except EventError:
                pass
        return self.clock()

    def _schedule_for(
        self,
        spec: Spec,
        version: str,
        tick: ScheduleTick,
        delivery: Delivery,
        nonce: str,
        published: datetime,
    ) -> Decision:
        running = self.backend.running(spec.name)
        record = schedule_decision(spec, version=version, tick=tick, running=running, nonce=nonce)
        kind, reason = self._submit(spec, version, "schedule", record, delivery.event_id, published)
        return delivery.decide(kind, reason, spec=spec.name, job_id=record.job_id)


def _refused(delivery: Delivery, spec: Spec, exc: BackendError) -> Decision:
    """The backend refused for good (permission, bad template): redelivering cannot help, so
    the event is answered `rejected` and acknowledged."""
    return delivery.decide("rejected", f"backend refused: {exc}", spec=spec.name)
