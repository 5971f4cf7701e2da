"""The data-arrival claim protocol: new rows are counted in the spec's state document, and when
the policy says run, the run is *claimed* there (in the same atomic write, leased to the
delivery that claimed it), then submitted, then settled by that delivery alone: `accept`ed,
or its rows `given_back` when the backend refuses. A redelivery writes nothing while the lease
is held; once it is free (released after a transient failure, or run out), exactly one
delivery or wake-up takes the claim over and submits it again under the same job id. The
wake-up also completes runs whose completion event was lost (asking the backend), says when
a run outlives `max_run_time` or a spec went stale, and starts runs that became due; a
finished run frees its slot and starts what waited for it. Policies are pure steps
(`routing.policy`) applied by the store atomically."""

from __future__ import annotations

import uuid
from datetime import datetime

from retrain.errors import BackendError, RetrainError, TransientError
from retrain.events.bigquery import decode_data_arrival
from retrain.events.envelope import Envelope
from retrain.events.types import DataArrival, Dismissed, TableSchemaChange
from retrain.report.notice import Incident
from retrain.routing.answer import Answer, Finished
from retrain.routing.decision import Decision, DecisionKind, Delivery
from retrain.routing.policy import (
    data_step,
    finished,
    flush_step,
    future_time,
    given_back,
    overdue_step,
    stale_step,
    unfinished,
    unsettled,
)
from retrain.routing.routes import Routes, refused
from retrain.routing.run_complete import RunCompletion
from retrain.routing.table_schema import schema_verdict
from retrain.runs import RunOutcome, label_value
from retrain.spec import Spec
from retrain.state.base import Claim, EventRecord


def _holder() -> str:
    """A new lease holder: one per delivery (never shared between two deliveries)."""
    return uuid.uuid4().hex


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
        holder = _holder()
        step = data_step(
            policy,
            spec=spec.name,
            version=version,
            event=event,
            running=running,
            now=self.routes.clock(),
            event_id=delivery.event_id,
            nonce=nonce,
            holder=holder,
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
            return self._resume(spec, transition.claim, record, delivery, holder)
        claim = transition.state.claim(record.job_id) if transition.state else None
        if claim is None:  # cannot happen: the step that decides `run` writes the claim
            raise RetrainError(f"run {record.job_id} was decided without its claim")
        return self._start(spec, claim, record.reason, delivery, resumed=False)

    def _resume(
        self,
        spec: Spec,
        claim: Claim | None,
        record: EventRecord,
        delivery: Delivery,
        holder: str,
    ) -> Decision:
        """A redelivery of the event that claimed a run. Settled (accepted, or refused and
        its rows given back): nothing to start. Unsettled: another delivery holds its lease
        and will settle it (nothing written here), unless the lease is free, then this
        delivery takes it over (one conditional write) and submits the same job again."""
        if claim is None or claim.accepted:
            what = "already exists" if claim else "was settled (run accepted, or refused)"
            return delivery.decide(
                "deduplicated",
                f"job {record.job_id} {what} ({spec.name})",
                spec=spec.name,
                job_id=record.job_id,
            )
        taken = self.routes.store.take_over(spec.name, claim.job_id, holder, self.routes.lease)
        if taken is None:
            return delivery.decide(
                "deduplicated",
                f"job {record.job_id} is being started by another delivery ({spec.name}); "
                "the wake-up takes it over if that one fails",
                spec=spec.name,
                job_id=record.job_id,
            )
        return self._start(spec, taken, record.reason, delivery, resumed=True)

    def _start(
        self, spec: Spec, claim: Claim, reason: str, delivery: Delivery, *, resumed: bool
    ) -> Decision:
        """Submit a claimed run, then settle the claim: accepted, or its rows given back.
        Only the claim's holder gets here. A transient failure hands the lease back, so the
        redelivery it causes takes the claim over at once."""
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
        except TransientError:
            store.release(spec.name, claim.job_id, claim.holder)
            raise
        except BackendError as exc:
            # A resubmit may be refused (a 403 on create) although the job exists: then it is
            # the claim's run, accepted, and nothing was refused.
            if resumed and self._is_claims_run(spec, claim):
                return self._accepted(spec, claim, reason, delivery, created=False, resumed=True)
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
        # this claim's run (a holder whose lease ran out got there first): settle it as
        # accepted, never give its rows back to start a second run on them.
        if created or self._is_claims_run(spec, claim):
            return self._accepted(spec, claim, reason, delivery, created=created, resumed=resumed)
        store.update(spec.name, given_back(claim.job_id))
        return delivery.decide(
            "deduplicated",
            f"job {claim.job_id} already exists for another spec; its rows wait for the next "
            "window",
            spec=spec.name,
            job_id=claim.job_id,
        )

    def _accepted(
        self,
        spec: Spec,
        claim: Claim,
        reason: str,
        delivery: Delivery,
        *,
        created: bool,
        resumed: bool,
    ) -> Decision:
        self.routes.store.accept(spec.name, claim.job_id, self.routes.clock())
        again = "resubmitted after an interrupted delivery: " if resumed else ""
        kind: DecisionKind = "run" if created else "deduplicated"
        text = again + reason if created else f"job {claim.job_id} already exists ({spec.name})"
        return delivery.decide(kind, text, spec=spec.name, job_id=claim.job_id)

    def _is_claims_run(self, spec: Spec, claim: Claim) -> bool:
        """Whether the job that already has the claim's id was started for this spec."""
        info = self.routes.backend.describe(claim.job_id)
        return info is not None and info.labels.get("retrain-spec") == label_value(spec.name)

    # -- the wake-up tick -------------------------------------------------------------------------

    def on_wake_up(self, delivery: Delivery) -> Answer:
        """Every spec: take over claims whose holder failed, complete runs whose completion
        was lost, start runs that became due, say when a run outlived its `max_run_time` or a
        spec went stale. Only what happened is a decision; a quiet tick is one `ignored`."""
        index = self.routes.index()
        decisions: list[Decision] = []
        done: list[Finished] = []
        for spec in index.specs():
            try:
                decisions += self._due(spec, index.version(spec.name), delivery)
                lost, overdue = self._lost(spec, delivery)
                done += lost
                decisions += overdue
            except BackendError as exc:
                decisions.append(refused(delivery, spec, exc))
        if not decisions and not done:
            decisions = [delivery.decide("ignored", "wake-up: nothing due")]
        return Answer(decisions, tuple(done))

    def _lost(self, spec: Spec, delivery: Delivery) -> tuple[list[Finished], list[Decision]]:
        """Accepted runs the backend no longer lists as running: ended, their completion
        event lost (or not yet posted: their claim stays until it is). Those still running
        past the spec's max_run_time raise its notice, once per run."""
        state = self.routes.store.read(spec.name)
        if state is None or not any(c.accepted for c in state.claims):
            return [], []
        now = self.routes.clock()
        running = self.routes.backend.running(spec.name)
        completion = RunCompletion(
            self.routes.backend, self.routes.index, self.routes.runs_root, self.routes.production
        )
        found = []
        for claim in unfinished(state, running, now):
            finished_run = completion.lost(claim.job_id, delivery, now)
            if finished_run is not None:
                found.append(finished_run)
        overdue = [
            decision
            for claim in state.claims
            if claim.accepted and claim.job_id in running and not claim.overdue_noticed
            for decision in self._check_overdue(spec, claim, now, delivery)
        ]
        return found, overdue

    def _check_overdue(
        self, spec: Spec, claim: Claim, now: datetime, delivery: Delivery
    ) -> list[Decision]:
        step = overdue_step(claim.job_id, spec.triggers.max_run_time, now)
        overdue = self.routes.store.update(spec.name, step).record.reason
        if not overdue:
            return []
        problem = Incident(
            spec=spec.name,
            kind="stale",
            summary=overdue,
            job_id=claim.job_id,
            trigger="data_arrival",
            event_id=claim.event_id,
        )
        self.routes.notify(problem, delivery)
        return [
            delivery.decide(
                "ignored", f"overdue: {overdue}", spec=spec.name, job_id=claim.job_id, alert=True
            )
        ]

    def _due(self, spec: Spec, version: str, delivery: Delivery) -> list[Decision]:
        policy = spec.triggers.data_arrival
        limit = spec.triggers.max_staleness
        if policy is None and limit is None:
            return []
        now = self.routes.clock()
        decisions = []
        if policy is not None:
            running = self.routes.backend.running(spec.name)
            holder = _holder()
            step = flush_step(
                policy, spec=spec.name, version=version, running=running, now=now, holder=holder
            )
            transition = self.routes.store.update(spec.name, step)
            state = transition.state
            record = transition.record
            for claim in unsettled(state) if state else []:
                if record.decision == "run" and claim.job_id == record.job_id:
                    continue  # this tick's own claim, started below
                taken = self.routes.store.take_over(
                    spec.name, claim.job_id, holder, self.routes.lease
                )
                if taken is not None:
                    reason = "wake-up: resubmitting an interrupted start"
                    decisions.append(self._start(spec, taken, reason, delivery, resumed=True))
            if record.decision == "run" and state is not None:
                own = state.claim(record.job_id)
                if own is not None:
                    reason = f"wake-up: {record.reason}"
                    decisions.append(self._start(spec, own, reason, delivery, resumed=False))
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
