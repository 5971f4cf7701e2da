"""The spec's policies as pure functions: no clock, no I/O; every input is an argument."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from retrain.events.types import DataArrival, DriftAlert, ScheduleTick
from retrain.routing.jobid import derive_job_id
from retrain.spec.model import DataArrivalPolicy, Spec, duration_of
from retrain.state.base import EventRecord, SpecState, Step, Transition

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def window_of(time: datetime, debounce: str) -> int:
    """The debounce window an event falls in: whole windows since the epoch."""
    seconds = int(duration_of(debounce).total_seconds())
    return int((time - _EPOCH).total_seconds()) // seconds


def window_bounds(window: int, debounce: str) -> str:
    """`start/end` in RFC 3339, the `data_window` runtime parameter of a data-arrival run."""
    size = duration_of(debounce)
    start = _EPOCH + window * size
    return f"{_iso(start)}/{_iso(start + size)}"


def _iso(time: datetime) -> str:
    return time.isoformat().replace("+00:00", "Z")


def data_step(
    policy: DataArrivalPolicy,
    *,
    spec: str,
    version: str,
    event: DataArrival,
    running: Sequence[str],
    nonce: str = "",
) -> Step:
    """The transition for one data arrival, applied inside the state store's transaction.

    Order matters: a redelivered event replays its first answer before any other check, so the
    run it started (now counted as running) cannot turn its own redelivery into 'busy'.
    A row count the log does not give (v1 load jobs) counts as enough.
    """
    window = window_of(event.time, policy.debounce)

    def step(state: SpecState, prior: EventRecord | None) -> Transition:
        if prior is not None:
            return Transition(record=prior, redelivered=True)
        pending = state.pending_rows + (event.rows or 0)
        kept = state.model_copy(update={"pending_rows": pending})
        if len(running) >= policy.max_concurrent_runs:
            busy = f"{len(running)} run(s) in progress, limit {policy.max_concurrent_runs}"
            if policy.when_busy == "skip":
                return Transition(
                    record=EventRecord(decision="ignored", reason=f"{busy}; rows skipped")
                )
            return Transition(
                record=EventRecord(
                    decision="debounced", reason=f"{busy}; {pending} rows kept for later"
                ),
                state=kept,
            )
        if event.rows is not None and pending < policy.min_new_rows:
            return Transition(
                record=EventRecord(
                    decision="debounced",
                    reason=f"{pending} of {policy.min_new_rows} new rows accumulated",
                ),
                state=kept,
            )
        if not nonce and state.last_window == window:
            return Transition(
                record=EventRecord(
                    decision="debounced",
                    reason=f"run {state.last_job_id} already started in this "
                    f"{policy.debounce} window; {pending} rows kept",
                ),
                state=kept,
            )
        job_id = derive_job_id(spec, version, "data_arrival", f"window:{window}", nonce)
        rows = "unknown number of" if event.rows is None else str(pending)
        return Transition(
            record=EventRecord(
                decision="run", job_id=job_id, reason=f"{rows} new rows (min {policy.min_new_rows})"
            ),
            state=SpecState(pending_rows=0, last_window=window, last_job_id=job_id),
        )

    return step


def drift_decision(
    spec: Spec, *, version: str, alert: DriftAlert, running: Sequence[str], nonce: str = ""
) -> EventRecord:
    """retrain / notify / ignore, per the spec. Stateless: the job id is the idempotency."""
    features = ", ".join(sorted({f"{f.feature} ({f.kind})" for f in alert.features}))
    action = spec.triggers.drift.action
    if action == "ignore":
        return EventRecord(decision="ignored", reason=f"drift action is ignore: {features}")
    if action == "notify":
        return EventRecord(
            decision="ignored", reason=f"drift action is notify (no run): {features}"
        )
    job_id = derive_job_id(spec.name, version, "drift", alert.key, nonce)
    return _admit(spec, job_id, running, what="alert", detail=features, reason=f"drift: {features}")


def schedule_decision(
    spec: Spec, *, version: str, tick: ScheduleTick, running: Sequence[str], nonce: str = ""
) -> EventRecord:
    """Run on a cron tick unless the spec lost its schedule (a stale Scheduler job) or is busy.
    Stateless, like drift: every copy of one tick derives the same job id."""
    cron = spec.triggers.schedule
    if cron is None:
        return EventRecord(
            decision="ignored", reason="spec has no schedule trigger (a stale Cloud Scheduler job)"
        )
    job_id = derive_job_id(spec.name, version, "schedule", tick.key, nonce)
    detail = f"schedule {cron} ({tick.key})"
    return _admit(spec, job_id, running, what="tick", detail=detail, reason=detail)


def run_limit(spec: Spec) -> int:
    """Concurrent runs allowed for a spec: its data_arrival limit, else one."""
    return spec.triggers.data_arrival.max_concurrent_runs if spec.triggers.data_arrival else 1


def _admit(
    spec: Spec, job_id: str, running: Sequence[str], *, what: str, detail: str, reason: str
) -> EventRecord:
    """The stateless triggers' last check: their own run in progress, or the spec is busy."""
    if job_id in running:
        return EventRecord(
            decision="deduplicated", job_id=job_id, reason=f"this {what}'s run is in progress"
        )
    limit = run_limit(spec)
    if len(running) >= limit:
        return EventRecord(
            decision="ignored", reason=f"{len(running)} run(s) in progress, limit {limit}: {detail}"
        )
    return EventRecord(decision="run", job_id=job_id, reason=reason)
