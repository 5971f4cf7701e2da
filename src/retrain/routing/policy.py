"""The spec's policies as pure functions: no clock, no I/O; every input is an argument.

Data arrival, as a ledger: each arrival adds its rows to the spec's pending count; a run
*claims* the pending rows in the same atomic write that checks the concurrency limit
(claims count as runs in progress on every instance), and the rows leave the state only when
the backend accepted that run. A refused submit gives them back; an interrupted one is
submitted again under the same job id. Windows only move forward: at most one run starts
per debounce window, and rows that could not run in theirs wait for the wake-up (`flush_step`)
of a later window, or for the end of the run that kept them waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from retrain.events.types import DataArrival, DriftAlert, ScheduleTick
from retrain.routing.drift_relevance import described, relevant_features
from retrain.routing.jobid import derive_job_id
from retrain.spec.model import DataArrivalPolicy, Spec, duration_of
from retrain.state.base import (
    Claim,
    EventRecord,
    SpecState,
    Step,
    Transition,
    Update,
    add_counts,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# A claim's lease: while it runs, only the delivery holding it submits and settles the claim;
# after it (or once released after a transient failure), exactly one other delivery or the
# wake-up takes it over. Twice the data function's 60 s timeout, so a live holder keeps it; a
# holder that outlives it anyway (on_run_complete may run 300 s) resubmits the same job id,
# which the backend answers ALREADY_EXISTS: one run still. Measured by the store's clock.
LEASE = timedelta(minutes=2)
# An accepted run the backend has not listed as running for this long after its acceptance
# has ended, or its completion event was lost: the wake-up asks the backend and completes it.
SETTLE = timedelta(minutes=2)
# A run still going this long after it was accepted raises its spec's notice (max_run_time).
DEFAULT_MAX_RUN_TIME = "24h"


# Clocks differ: Cloud Logging, Pub/Sub and this host keep their own time, so an event may be
# stamped a little after our clock reads it. A time later than now by more than this is not a
# real event's (it would hold every later window: one entry dated 2999 would debounce all).
CLOCK_SKEW = timedelta(minutes=5)
# A drift alert older than this describes data that later runs have already read; it is
# dismissed, not run. Pub/Sub keeps an unacknowledged message 7 days by default
# (`message_retention_duration`), so no genuine delivery is older.
ALERT_MAX_AGE = timedelta(days=7)


def future_time(what: str, time: datetime, now: datetime) -> str:
    """Why an event's time cannot be taken (after now by more than CLOCK_SKEW); empty if it
    can. Times within the skew are taken as now (`up_to_now`)."""
    if time > now + CLOCK_SKEW:
        return (
            f"{what} time {_iso(time)} is after now ({_iso(now)}) by more than the "
            f"{int(CLOCK_SKEW.total_seconds() // 60)} minutes clocks may differ: refused"
        )
    return ""


def alert_age(time: datetime, now: datetime) -> str:
    """Why a drift alert is too old to act on; empty when it is recent enough."""
    if now - time > ALERT_MAX_AGE:
        return (
            f"drift alert time {_iso(time)} is more than {ALERT_MAX_AGE.days} days before now "
            f"({_iso(now)}): too old to act on, dismissed"
        )
    return ""


def up_to_now(time: datetime, now: datetime) -> datetime:
    """Windows and snapshots never move past now."""
    return min(time, now)


def window_of(time: datetime, debounce: str) -> int:
    """The debounce window an event falls in: whole windows since the epoch."""
    seconds = int(duration_of(debounce).total_seconds())
    return int((time - _EPOCH).total_seconds()) // seconds


def window_bounds(window: int, debounce: str) -> str:
    """A debounce window as `start/end` in RFC 3339 (shown by `retrain status`)."""
    size = duration_of(debounce)
    start = _EPOCH + window * size
    return f"{_iso(start)}/{_iso(start + size)}"


def _iso(time: datetime) -> str:
    return time.isoformat().replace("+00:00", "Z")


def _watched(state: SpecState, now: datetime) -> SpecState:
    if state.watched_since is not None:
        return state
    return state.model_copy(update={"watched_since": now})


def unfinished(state: SpecState, running: Sequence[str], now: datetime) -> list[Claim]:
    """Accepted runs the backend no longer lists as running, SETTLE after their acceptance:
    ended without their completion reaching us (the wake-up asks the backend about each)."""
    return [
        c
        for c in state.claims
        if c.accepted
        and c.job_id not in running
        and c.accepted_at is not None
        and now - c.accepted_at >= SETTLE
    ]


def overdue_step(job_id: str, max_run_time: str, now: datetime) -> Update:
    """The reason a run has outlived its spec's `max_run_time`, once per run; empty when it
    has not (or was told already)."""

    def step(state: SpecState) -> Transition:
        claim = state.claim(job_id)
        quiet = Transition(record=EventRecord(decision="ignored"))
        if claim is None or claim.accepted_at is None or claim.overdue_noticed:
            return quiet
        if now - claim.accepted_at < duration_of(max_run_time):
            return quiet
        reason = (
            f"run {job_id} has been running since {_iso(claim.accepted_at)}, longer than "
            f"max_run_time {max_run_time}; its rows stay with it until it ends"
        )
        noticed = claim.model_copy(update={"overdue_noticed": True})
        claims = tuple(noticed if c.job_id == job_id else c for c in state.claims)
        return Transition(
            record=EventRecord(decision="ignored", reason=reason),
            state=state.model_copy(update={"claims": claims}),
        )

    return step


def absorb(state: SpecState, rows: int | None) -> SpecState:
    """One more arrival waiting; an arrival that does not say its rows counts as enough."""
    return state.model_copy(
        update={
            "pending_rows": add_counts(state.pending_rows, rows or 0),
            "pending_events": add_counts(state.pending_events, 1),
            "pending_unknown": state.pending_unknown or rows is None,
        }
    )


def in_progress(state: SpecState, running: Sequence[str], now: datetime) -> list[str]:
    """The spec's runs for the limit: the backend's, and the claims of every instance, except
    accepted runs the backend has stopped listing (ended: their claim stays until their
    completion is posted, but a code host that is down must not hold retraining back)."""
    ended = {c.job_id for c in unfinished(state, running, now)}
    return sorted({*running, *(c.job_id for c in state.claims if c.job_id not in ended)})


def latest_window(state: SpecState, before: int | None = None) -> int | None:
    """The latest window a run was claimed in; with `before`, windows after it (recorded from
    a time past now, before times were bounded) are not real and hold nothing back."""
    windows = [c.window for c in state.claims]
    if state.last_window is not None:
        windows.append(state.last_window)
    if before is not None:
        windows = [w for w in windows if w <= before]
    return max(windows, default=None)


def _admit(
    policy: DataArrivalPolicy,
    state: SpecState,
    *,
    spec: str,
    version: str,
    window: int,
    running: Sequence[str],
    now: datetime,
    event_id: str = "",
    nonce: str = "",
    holder: str = "",
) -> Transition:
    """Start a run holding every pending row, if the policy allows it now; else keep them.
    The claim is leased to `holder`, the delivery that will submit it."""
    pending = "unknown number of" if state.pending_unknown else str(state.pending_rows)
    busy = in_progress(state, running, now)
    if len(busy) >= policy.max_concurrent_runs:
        reason = (
            f"{len(busy)} run(s) in progress, limit {policy.max_concurrent_runs}; "
            f"{state.pending_rows} rows kept for later"
        )
        return Transition(record=EventRecord(decision="debounced", reason=reason), state=state)
    if not state.pending_unknown and state.pending_rows < policy.min_new_rows:
        reason = f"{state.pending_rows} of {policy.min_new_rows} new rows accumulated"
        return Transition(record=EventRecord(decision="debounced", reason=reason), state=state)
    latest = latest_window(state, before=window_of(now, policy.debounce))
    if not nonce and latest is not None and window <= latest:
        when = "this" if window == latest else "a later"
        reason = (
            f"run {state.last_job_id or 'of this window'} already started in {when} "
            f"{policy.debounce} window; {state.pending_rows} rows kept for the next"
        )
        return Transition(record=EventRecord(decision="debounced", reason=reason), state=state)
    job_id = derive_job_id(spec, version, "data_arrival", f"window:{window}", nonce)
    claim = Claim(
        job_id=job_id,
        rows=state.pending_rows,
        events=state.pending_events,
        unknown=state.pending_unknown,
        window=window,
        version=version,
        event_id=event_id,
        claimed_at=now,
        holder=holder,
    )
    taken = state.model_copy(
        update={
            "pending_rows": 0,
            "pending_events": 0,
            "pending_unknown": False,
            "claims": (*state.claims, claim),
        }
    )
    record = EventRecord(
        decision="run", job_id=job_id, reason=f"{pending} new rows (min {policy.min_new_rows})"
    )
    return Transition(record=record, state=taken)


def data_step(
    policy: DataArrivalPolicy,
    *,
    spec: str,
    version: str,
    event: DataArrival,
    running: Sequence[str],
    now: datetime,
    event_id: str = "",
    nonce: str = "",
    holder: str = "",
) -> Step:
    """The transition for one data arrival, applied atomically by the state store.

    A redelivered event replays its first answer before any other check, so the run it
    started (now counted as running) cannot turn its own redelivery into 'busy'. A late
    entry (its window before the latest run's) keeps its rows for the next window.
    """
    window = window_of(up_to_now(event.time, now), policy.debounce)

    def step(state: SpecState, prior: EventRecord | None) -> Transition:
        if prior is not None:  # with the claim it made, if its start is still unsettled
            return Transition(record=prior, redelivered=True, claim=state.claim(prior.job_id))
        state = _watched(state, now)
        busy = in_progress(state, running, now)
        if policy.when_busy == "skip" and len(busy) >= policy.max_concurrent_runs:
            reason = (
                f"{len(busy)} run(s) in progress, limit {policy.max_concurrent_runs}; "
                f"rows skipped (when_busy: skip)"
            )
            return Transition(record=EventRecord(decision="ignored", reason=reason), state=state)
        return _admit(
            policy,
            absorb(state, event.rows),
            spec=spec,
            version=version,
            window=window,
            running=running,
            now=now,
            event_id=event_id,
            nonce=nonce,
            holder=holder,
        )

    return step


def flush_step(
    policy: DataArrivalPolicy,
    *,
    spec: str,
    version: str,
    running: Sequence[str],
    now: datetime,
    holder: str = "",
) -> Update:
    """The wake-up: pending rows that meet the policy start a run in the current window."""

    def step(state: SpecState) -> Transition:
        state = _watched(state, now)
        if state.pending_events == 0:  # the state still goes back: its claims may be stalled
            return Transition(
                record=EventRecord(decision="ignored", reason="no rows waiting"), state=state
            )
        return _admit(
            policy,
            state,
            spec=spec,
            version=version,
            window=window_of(now, policy.debounce),
            running=running,
            now=now,
            holder=holder,
        )

    return step


def unsettled(state: SpecState) -> list[Claim]:
    """Claims not yet accepted: the wake-up takes over those whose lease is free."""
    return [c for c in state.claims if not c.accepted]


def _noted(state: SpecState, reason: str) -> Transition:
    return Transition(record=EventRecord(decision="run", reason=reason), state=state)


def given_back(job_id: str) -> Update:
    """The backend refused the claim's run, or it was another run's id: its rows wait again.
    The window still counts as tried, so a refusal is retried in the next window, not at once."""

    def step(state: SpecState) -> Transition:
        claim = state.claim(job_id)
        if claim is None or claim.accepted:
            return _noted(state, "no claim to give back")
        return _noted(
            state.model_copy(
                update={
                    "claims": state.without(job_id),
                    "pending_rows": add_counts(state.pending_rows, claim.rows),
                    "pending_events": add_counts(state.pending_events, claim.events),
                    "pending_unknown": state.pending_unknown or claim.unknown,
                    "last_window": max(claim.window, state.last_window or claim.window),
                }
            ),
            "given back",
        )

    return step


def finished(job_id: str, *, succeeded: bool, counts: bool, now: datetime) -> Update:
    """A run ended: its claim (if it held one) is spent; a success of a run that can promote
    (`counts`) resets the staleness clock."""

    def step(state: SpecState) -> Transition:
        claim = state.claim(job_id)
        update: dict[str, object] = {"claims": state.without(job_id)}
        if claim is not None:
            update["last_window"] = max(claim.window, state.last_window or claim.window)
        if succeeded and counts:
            update |= {"last_success": now, "stale_noticed": False}
        return _noted(state.model_copy(update=update), "finished")

    return step


def stale_step(limit: str, now: datetime) -> Update:
    """The record's reason says why the spec is stale (no success within `limit`), once until
    the next success; empty when it is not. The clock starts when the service first looks."""

    def step(state: SpecState) -> Transition:
        quiet = Transition(record=EventRecord(decision="ignored"))
        if state.watched_since is None:
            return quiet.model_copy(update={"state": _watched(state, now)})
        since = state.last_success or state.watched_since
        if state.stale_noticed or now - since < duration_of(limit):
            return quiet
        what = "succeeded" if state.last_success else "been seen to succeed"
        reason = f"no run has {what} since {_iso(since)} (max_staleness {limit})"
        return Transition(
            record=EventRecord(decision="ignored", reason=reason),
            state=state.model_copy(update={"stale_noticed": True}),
        )

    return step


def drift_decision(
    spec: Spec, *, version: str, alert: DriftAlert, running: Sequence[str], nonce: str = ""
) -> EventRecord:
    """retrain / notify / ignore, per the spec. Stateless: the job id is the idempotency, and
    it names the data-arrival debounce window, so alerts debounce as data arrivals do."""
    concerned = relevant_features(spec, alert)
    if not concerned:
        return EventRecord(
            decision="ignored",
            reason=f"no feature of {spec.name} drifted over its threshold: "
            f"{described(list(alert.features))[:300]}",
        )
    features = described(concerned)
    action = spec.triggers.drift.action
    if action == "ignore":
        return EventRecord(decision="ignored", reason=f"drift action is ignore: {features}")
    if action == "notify":
        return EventRecord(
            decision="ignored", reason=f"drift action is notify (no run): {features}"
        )
    debounce = (spec.triggers.data_arrival or DataArrivalPolicy()).debounce
    window = window_of(alert.time, debounce)
    job_id = derive_job_id(spec.name, version, "drift", f"window:{window}", nonce)
    return _admit_stateless(
        spec, job_id, running, what="alert", detail=features, reason=f"drift: {features}"
    )


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
    return _admit_stateless(spec, job_id, running, what="tick", detail=detail, reason=detail)


def run_limit(spec: Spec) -> int:
    """Concurrent runs allowed for a spec: its data_arrival limit, else one."""
    return spec.triggers.data_arrival.max_concurrent_runs if spec.triggers.data_arrival else 1


def _admit_stateless(
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
