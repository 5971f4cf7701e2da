"""The data-arrival claim protocol: new rows are counted in the spec's state document, and when
the policy says run, the run is *claimed* there (in the same transaction), then submitted, then
settled: `accepted`, or its rows `given_back` when the backend refuses. A delivery that finds
an unsettled claim of its own resumes it; the wake-up tick resumes claims nobody came back for,
starts runs that became due, and says when a spec went stale; a finished run frees its slot and
starts what waited for it. Policies are pure steps (`routing.policy`) applied inside the
store's transactions."""

from __future__ import annotations

from datetime import datetime

from retrain.errors import BackendError, RetrainError
from retrain.events.bigquery import decode_data_arrival
from retrain.events.envelope import Envelope
from retrain.events.types import DataArrival, Dismissed, TableSchemaChange
from retrain.report.notice import Incident
from retrain.routing.answer import Answer
from retrain.routing.decision import Decision, DecisionKind, Delivery
from retrain.routing.policy import (
    accepted,
    data_step,
    finished,
    flush_step,
    future_time,
    given_back,
    stale_step,
    stalled,
)
from retrain.routing.routes import Routes, refused
from retrain.routing.table_schema import schema_verdict
from retrain.runs import RunOutcome, label_value
from retrain.spec import Spec
from retrain.state.base import Claim, EventRecord


class Arrivals:
    def __init__(self, routes: Routes) -> None:
        self.routes = routes

    # -- a delivery of a BigQuery audit entry -----------------------------------------------------

    def on_data(self, envelope: Envelope, delivery: Delivery) -> Answer:
        event = decode_data_arrival(envelope.payload)
        if isinstance(event, Dismissed):
            return Answer([delivery.decide("ignored", event.reason)])
        if isinstance(event, TableSchemaChange):
            return self._table_change(event, delivery.keyed(event.key))
        delivery = delivery.keyed(event.key)
        future = future_time("the entry's", event.time, self.routes.clock())
        if future:  # it would hold every window up to it: nothing genuine could run
            return Answer([delivery.decide("rejected", future)])
        return self.routes.for_each_spec(
            delivery,
            self.routes.index().watching(event.table),
            f"no spec watches {event.table}",
            lambda spec, version: self._data_for(spec, version, event, delivery, envelope.nonce),
        )

    def _table_change(self, change: TableSchemaChange, delivery: Delivery) -> Answer:
        """Decided at once, no run: an alert (and the spec's notice) when a column the spec
        reads is gone or retyped; a notice in the log for columns it does not read."""

        def decide(spec: Spec, version: str) -> Decision:
            del version
            verdict = schema_verdict(spec, change)
            if verdict.level == "alert":
                problem = Incident(
                    spec=spec.name,
                    kind="schema_drift",
                    summary=verdict.reason,
                    trigger="data_arrival",
                    event_id=delivery.event_id,
                )
                self.routes.notify(problem, delivery)
            return delivery.decide(
                "ignored", verdict.reason, spec=spec.name, alert=verdict.level == "alert"
            )

        watching = self.routes.index().watching(change.table)
        return self.routes.for_each_spec(
            delivery, watching, f"no spec watches {change.table}", decide
        )

    def _data_for(
        self, spec: Spec, version: str, event: DataArrival, delivery: Delivery, nonce: str
    ) -> Decision:
        policy = spec.triggers.data_arrival
        if policy is None:
            return delivery.decide("ignored", "spec has no data_arrival trigger", spec=spec.name)
        running = self.routes.backend.running(spec.name)
        key = f"{event.key}#{nonce}" if nonce else event.key
        step = data_step(
            policy,
            spec=spec.name,
            version=version,
            event=event,
            running=running,
            now=self.routes.clock(),
            event_id=delivery.event_id,
            nonce=nonce,
        )
        transition = self.routes.store.transact(spec.name, key, step)
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
        return self._start(spec, claim, record.reason, delivery, resumed=False)

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
        store = self.routes.store
        request = self.routes.request(
            spec,
            job_id=claim.job_id,
            version=claim.version,
            trigger="data_arrival",
            event_id=claim.event_id,
            snapshot=claim.claimed_at,  # decided when claimed; resubmits agree
        )
        try:
            created = self.routes.backend.submit(request)
        except BackendError as exc:
            store.update(spec.name, given_back(claim.job_id))
            self.routes.notify(
                Incident(
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
            return refused(delivery, spec, exc)
        # The job id derives from the claim, so an existing job of this spec with that id is
        # this claim's run (another instance resuming it got there first): settle it as
        # accepted, never give its rows back to start a second run on them.
        if created or resumed or self._is_claims_run(spec, claim):
            store.update(spec.name, accepted(claim.job_id, self.routes.clock()))
            again = "resubmitted after an interrupted delivery: " if resumed else ""
            kind: DecisionKind = "run" if created else "deduplicated"
            text = again + reason if created else f"job {claim.job_id} already exists ({spec.name})"
            return delivery.decide(kind, text, spec=spec.name, job_id=claim.job_id)
        store.update(spec.name, given_back(claim.job_id))
        return delivery.decide(
            "deduplicated",
            f"job {claim.job_id} already exists for another spec; its rows wait for the next "
            "window",
            spec=spec.name,
            job_id=claim.job_id,
        )

    def _is_claims_run(self, spec: Spec, claim: Claim) -> bool:
        """Whether the job that already has the claim's id was started for this spec."""
        info = self.routes.backend.describe(claim.job_id)
        return info is not None and info.labels.get("retrain-spec") == label_value(spec.name)

    # -- the wake-up tick -------------------------------------------------------------------------

    def on_wake_up(self, delivery: Delivery) -> Answer:
        """Every spec: resubmit interrupted claims, start runs that became due, say when a
        spec went stale. Only what happened is a decision; a quiet tick is one `ignored`."""
        index = self.routes.index()
        decisions: list[Decision] = []
        for spec in index.specs():
            try:
                decisions += self._due(spec, index.version(spec.name), delivery)
            except BackendError as exc:
                decisions.append(refused(delivery, spec, exc))
        return Answer(decisions or [delivery.decide("ignored", "wake-up: nothing due")])

    def _due(self, spec: Spec, version: str, delivery: Delivery) -> list[Decision]:
        policy = spec.triggers.data_arrival
        limit = spec.triggers.max_staleness
        if policy is None and limit is None:
            return []
        now = self.routes.clock()
        decisions = []
        if policy is not None:
            running = self.routes.backend.running(spec.name)
            step = flush_step(policy, spec=spec.name, version=version, running=running, now=now)
            transition = self.routes.store.update(spec.name, step)
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
        stale = self.routes.store.update(spec.name, stale_step(limit, now)).record.reason
        if not stale:
            return []
        problem = Incident(spec=spec.name, kind="stale", summary=stale, event_id=delivery.event_id)
        self.routes.notify(problem, delivery)
        return [delivery.decide("ignored", f"stale: {stale}", spec=spec.name, alert=True)]

    # -- a finished run ---------------------------------------------------------------------------

    def after_run(self, outcome: RunOutcome, delivery: Delivery) -> list[Decision]:
        """The run's claim is spent, its slot free: start what waited for it at once."""
        index = self.routes.index()
        spec = index.get(outcome.spec)
        if spec is None:
            return []
        self.routes.store.update(
            spec.name,
            finished(
                outcome.job_id,
                succeeded=outcome.state == "succeeded",
                counts=outcome.production,  # proven by the backend, not by a label
                now=self.routes.clock(),
            ),
        )
        try:
            return self._due(spec, index.version(spec.name), delivery)
        except BackendError as exc:
            return [refused(delivery, spec, exc)]
