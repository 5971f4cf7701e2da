"""The event service: one table from event kind to route, and the one place every decision is
recorded. I/O only through ports.

Every delivery ends in at least one recorded Decision. Permanent problems (undecodable or
unknown payloads, a backend refusing a request for good) become `rejected` and return
normally, so Pub/Sub stops redelivering; TransientError propagates so Pub/Sub redelivers.
The routes decide: `arrivals` (the data-arrival claim protocol, the wake-up tick, what a
finished run frees), `triggers` (drift alerts, schedule ticks), `run_complete` (finished runs,
whose outcome goes on to the completion sink after its decision is recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from retrain.backends.base import ProductionRuns, RunBackend
from retrain.baseline import no_baseline
from retrain.completion.notices import NoNotices, NoticeSink
from retrain.errors import BackendError, EventError, RetrainError, TransientError
from retrain.events.envelope import Envelope, unwrap
from retrain.events.schedule import decode_flush_tick, is_flush
from retrain.routing.answer import Answer, Finished
from retrain.routing.arrivals import Arrivals
from retrain.routing.decision import Decision, DecisionLog, Delivery, EventKind
from retrain.routing.index import SpecIndex
from retrain.routing.policy import LEASE
from retrain.routing.routes import Routes
from retrain.routing.run_complete import RunCompletion
from retrain.routing.triggers import Triggers
from retrain.runs import Baseline, RunOutcome
from retrain.spec import Spec
from retrain.state.base import StateStore


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
    # What the backend reports for a production run; None: every finished run is a candidate.
    production: ProductionRuns | None = None
    # Production's model for a spec of the index (the default branch): every run's baseline.
    baselines: Callable[[Spec], Baseline] = no_baseline
    lease: timedelta = LEASE  # a claim's holder alone submits and settles it this long

    def _routes(self) -> tuple[Arrivals, Triggers]:
        """The routes over the service's ports as they are now: built per delivery (no I/O,
        a few objects), so a port replaced on the service is the one every route uses."""
        routes = Routes(
            index=self.index,
            store=self.store,
            backend=self.backend,
            log=self.log,
            notices=self.notices,
            clock=self.clock,
            git_sha=self.git_sha,
            baselines=self.baselines,
            lease=self.lease,
            runs_root=self.runs_root,
            production=self.production,
        )
        return Arrivals(routes), Triggers(routes)

    def handle(self, kind: EventKind, data: Any, event_id: str = "") -> list[Decision]:
        """Answer one delivery of an event of `kind` (raw bytes, a push body or an entry)."""
        delivery = Delivery(kind, event_id)
        arrivals, triggers = self._routes()
        try:
            envelope = unwrap(data)
            delivery = Delivery(kind, envelope.event_id or event_id)
            answer = self._dispatch(kind, envelope, delivery, arrivals, triggers)
        except (EventError, BackendError) as exc:  # permanent: answer and acknowledge
            answer = Answer([delivery.decide("rejected", str(exc))])
        decisions = list(answer.decisions)
        for done in answer.finished:
            try:
                decisions += self._complete(done, arrivals, delivery)
            except TransientError:
                if kind == "run_complete":
                    raise  # redelivered; nothing recorded, the claim kept
                # the wake-up: the claim stays, and the next tick tries again
        if not decisions:
            decisions = [delivery.decide("ignored", "wake-up: a completion is not posted yet")]
        for decision in decisions:
            self.log.record(decision)
        return decisions

    def _complete(self, done: Finished, arrivals: Arrivals, delivery: Delivery) -> list[Decision]:
        """A finished run: its comment or notice first, then its claim released (and what its
        slot lets start), then its one `completed` decision. A code host that is down raises
        TransientError before anything is recorded or released; a permanent failure becomes
        a second, rejected decision."""
        decisions = [done.decision]
        failed = self._hand_off(done.outcome, done.decision)
        if failed is not None:
            decisions.append(failed)
        return decisions + arrivals.after_run(done.outcome, delivery)

    def _hand_off(self, outcome: RunOutcome, decision: Decision) -> Decision | None:
        """A permanent failure becomes a second, rejected decision; a transient one leaves."""
        try:
            self.sink().handle(outcome)
        except TransientError:
            raise
        except RetrainError as exc:
            return decision.model_copy(
                update={"decision": "rejected", "reason": f"completion handler: {exc}"}
            )
        return None

    def _dispatch(
        self,
        kind: EventKind,
        envelope: Envelope,
        delivery: Delivery,
        arrivals: Arrivals,
        triggers: Triggers,
    ) -> Answer:
        """The one table from event kind to route."""
        if kind == "data_arrival":
            return arrivals.on_data(envelope, delivery)
        if kind == "drift":
            return triggers.on_drift(envelope, delivery)
        if kind == "schedule":  # a spec's cron tick, or the wake-up tick
            if is_flush(envelope):
                decode_flush_tick(envelope)
                return arrivals.on_wake_up(delivery.keyed("flush"))
            return triggers.on_schedule(envelope, delivery)
        # a finished run: handed to the sink, then whatever its freed slot lets start
        completion = RunCompletion(self.backend, self.index, self.runs_root, self.production)
        return completion(envelope, delivery)
