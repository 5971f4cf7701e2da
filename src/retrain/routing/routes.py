"""What every route shares: the ports a decision goes through, the one place a run request is
made, failure notices, and the per-spec fan-out. Routes (`arrivals`, `triggers`) decide;
`service.Service` only dispatches to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from retrain.backends.base import ProductionRuns, RunBackend
from retrain.completion.notices import NoticeSink
from retrain.errors import BackendError, RetrainError, TransientError
from retrain.report.notice import Incident
from retrain.routing.answer import Answer
from retrain.routing.decision import Decision, DecisionLog, Delivery
from retrain.routing.index import SpecIndex
from retrain.runs import Baseline, RunRequest, Trigger, snapshot_time
from retrain.spec import Spec
from retrain.state.base import StateStore


@dataclass
class Routes:
    """The ports and facts of one service instance (built by `retrain.wiring`)."""

    index: Callable[[], SpecIndex]
    store: StateStore
    backend: RunBackend
    log: DecisionLog
    notices: Callable[[], NoticeSink]
    clock: Callable[[], datetime]
    git_sha: str
    # Production's model for a spec of the index (the default branch): every run's baseline.
    baselines: Callable[[Spec], Baseline]
    lease: timedelta  # how long a claim's holder alone may submit and settle it
    runs_root: str = ""  # finished runs must have written under it ("" in tests: anywhere)
    production: ProductionRuns | None = None  # None: every finished run is a candidate

    def request(
        self,
        spec: Spec,
        *,
        job_id: str,
        version: str,
        trigger: Trigger,
        event_id: str,
        snapshot: datetime,
    ) -> RunRequest:
        """The run a route starts: the deployed commit, production's model as the baseline,
        the data as of `snapshot` (decided once; a resubmit passes the same moment)."""
        return RunRequest.for_spec(
            spec,
            job_id=job_id,
            version=version,
            trigger=trigger,
            git_sha=self.git_sha,
            event_id=event_id,
            snapshot=snapshot_time(snapshot),
            baseline=self.baselines(spec),
        )

    def notify(self, problem: Incident, delivery: Delivery) -> None:
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

    def for_each_spec(
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
                self.notify(
                    Incident(
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
                decisions.append(refused(delivery, spec, exc))
        return Answer(decisions)


def refused(delivery: Delivery, spec: Spec, exc: BackendError) -> Decision:
    """The backend refused for good (permission, bad template): redelivering cannot help, so
    the event is answered `rejected` and acknowledged."""
    return delivery.decide("rejected", f"backend refused: {exc}", spec=spec.name)
