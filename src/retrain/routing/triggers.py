"""The routes decided per event, without counting: a drift alert (retrain, notify or ignore,
as the spec says) and a schedule tick (one run per tick). The pure policy turns the event into
a record; a `run` record is submitted under its deterministic job id, so a second delivery is
ALREADY_EXISTS and answered `deduplicated`."""

from __future__ import annotations

from datetime import datetime

from retrain.errors import EventError
from retrain.events.drift import decode_drift
from retrain.events.envelope import Envelope
from retrain.events.fields import EPOCH
from retrain.events.schedule import decode_schedule_tick
from retrain.events.types import Dismissed, DriftAlert, ScheduleTick
from retrain.routing.answer import Answer
from retrain.routing.decision import Decision, DecisionKind, Delivery
from retrain.routing.policy import (
    alert_age,
    drift_decision,
    future_time,
    in_progress,
    schedule_decision,
    up_to_now,
)
from retrain.routing.routes import Routes
from retrain.runs import Trigger
from retrain.spec import Spec
from retrain.state.base import EventRecord


class Triggers:
    def __init__(self, routes: Routes) -> None:
        self.routes = routes

    def _submit(
        self,
        spec: Spec,
        version: str,
        trigger: Trigger,
        record: EventRecord,
        event_id: str,
        snapshot: datetime,
    ) -> tuple[DecisionKind, str]:
        """Submit a `run` record's job, pass any other record through. ALREADY_EXISTS means
        another delivery got there first."""
        if record.decision != "run":
            return record.decision, record.reason
        request = self.routes.request(
            spec,
            job_id=record.job_id,
            version=version,
            trigger=trigger,
            event_id=event_id,
            snapshot=snapshot,
        )
        if self.routes.backend.submit(request):
            return "run", record.reason
        return "deduplicated", f"job {record.job_id} already exists ({spec.name})"

    def _in_progress(self, spec: Spec) -> list[str]:
        """One concurrency limit for every trigger: the backend's active runs and the open
        claims of data arrivals (a claim being submitted is not yet a running job)."""
        running = self.routes.backend.running(spec.name)
        state = self.routes.store.read(spec.name)
        if state is None:
            return running
        return in_progress(state, running, self.routes.clock())

    # -- drift ------------------------------------------------------------------------------------

    def on_drift(self, envelope: Envelope, delivery: Delivery) -> Answer:
        alert = decode_drift(envelope.payload)
        if isinstance(alert, Dismissed):
            return Answer([delivery.decide("ignored", alert.reason)])
        published = envelope.published
        now = self.routes.clock()
        if alert.time == EPOCH:  # no time of its own: debounced by when it was published
            alert = alert.model_copy(update={"time": published or now})
        delivery = delivery.keyed(alert.key)
        future = future_time("the alert's", alert.time, now)
        if future:
            return Answer([delivery.decide("rejected", future)])
        old = alert_age(alert.time, now)
        if old:  # a run for it would read data later runs have read: dismissed, never run
            return Answer([delivery.decide("ignored", old)])
        alert = alert.model_copy(update={"time": up_to_now(alert.time, now)})
        return self.routes.for_each_spec(
            delivery,
            self.routes.index().for_models(alert.models),
            f"no spec for model {', '.join(alert.models)}",
            lambda spec, version: self._drift_for(spec, version, alert, delivery, envelope.nonce),
        )

    def _drift_for(
        self, spec: Spec, version: str, alert: DriftAlert, delivery: Delivery, nonce: str
    ) -> Decision:
        action = spec.triggers.drift.action
        running = self._in_progress(spec) if action == "retrain" else []
        record = drift_decision(spec, version=version, alert=alert, running=running, nonce=nonce)
        kind, reason = self._submit(spec, version, "drift", record, delivery.event_id, alert.time)
        return delivery.decide(
            kind, reason, spec=spec.name, job_id=record.job_id, alert=action == "notify"
        )

    # -- schedule ---------------------------------------------------------------------------------

    def on_schedule(self, envelope: Envelope, delivery: Delivery) -> Answer:
        tick = decode_schedule_tick(envelope)
        delivery = delivery.keyed(tick.key)
        spec = self.routes.index().get(tick.spec)
        if spec is None:
            return Answer(
                [delivery.decide("ignored", f"no spec {tick.spec!r} (a stale Cloud Scheduler job)")]
            )
        published = self._published(envelope)
        return self.routes.for_each_spec(
            delivery,
            [spec],
            "",
            lambda spec, version: self._schedule_for(
                spec, version, tick, delivery, envelope.nonce, published
            ),
        )

    def _published(self, envelope: Envelope) -> datetime:
        """When the tick was published (its data snapshot); the clock when it does not say."""
        try:
            published = envelope.published
        except EventError:
            published = None
        now = self.routes.clock()
        return up_to_now(published, now) if published else now

    def _schedule_for(
        self,
        spec: Spec,
        version: str,
        tick: ScheduleTick,
        delivery: Delivery,
        nonce: str,
        published: datetime,
    ) -> Decision:
        running = self._in_progress(spec)
        record = schedule_decision(spec, version=version, tick=tick, running=running, nonce=nonce)
        kind, reason = self._submit(spec, version, "schedule", record, delivery.event_id, published)
        return delivery.decide(kind, reason, spec=spec.name, job_id=record.job_id)
