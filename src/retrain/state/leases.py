"""Who may submit and settle a claim, as pure functions over the spec's state; every store
applies them the same way (Firestore as a conditional write or a field write, memory under a
lock). `now` is always the store's clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from retrain.state.base import Claim, SpecState


def _replaced(state: SpecState, claim: Claim) -> SpecState:
    claims = tuple(claim if c.job_id == claim.job_id else c for c in state.claims)
    return state.model_copy(update={"claims": claims})


def stamped(state: SpecState, now: datetime) -> SpecState:
    """Claims written with a holder and no lease time get the store's time as their lease."""
    for claim in state.claims:
        if claim.holder and claim.leased_at is None:
            state = _replaced(state, claim.model_copy(update={"leased_at": now}))
    return state


def accepted_claim(state: SpecState, job_id: str, at: datetime) -> SpecState:
    """The claim's run exists: its rows are spent. Nothing when the claim is gone (its run
    already finished) or already accepted."""
    claim = state.claim(job_id)
    if claim is None or claim.accepted:
        return state
    done = claim.model_copy(update={"accepted": True, "accepted_at": at})
    return _replaced(state, done).model_copy(update={"last_job_id": job_id})


def released_claim(state: SpecState, job_id: str, holder: str) -> SpecState:
    claim = state.claim(job_id)
    if claim is None or claim.accepted or claim.holder != holder:
        return state
    return _replaced(state, claim.model_copy(update={"holder": "", "leased_at": None}))


def lease_expired(claim: Claim, lease: timedelta, now: datetime) -> bool:
    return not claim.holder or claim.leased_at is None or now - claim.leased_at >= lease


def taken_over(
    state: SpecState, job_id: str, holder: str, lease: timedelta, now: datetime
) -> SpecState | None:
    """The state with the claim held by `holder`, or None when it may not be taken."""
    claim = state.claim(job_id)
    if claim is None or claim.accepted or not lease_expired(claim, lease, now):
        return None
    return _replaced(state, claim.model_copy(update={"holder": holder, "leased_at": now}))
