"""The Firestore store on its emulator: what the design in docs/events.md ("Many instances")
rests on. A redelivery writes nothing, exactly one of many racing holders takes a free claim,
a lease is measured by Firestore's clock, acceptance is a write by job id that leaves nothing
behind once the claim is gone, and many instances admitting and redelivering on one spec all
finish (no livelock)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone

from retrain.errors import TransientError
from retrain.google.firestore import FirestoreStore
from retrain.state.base import Claim, EventRecord, SpecState, Step, Transition

NOW = datetime(2026, 3, 2, tzinfo=timezone.utc)


def store_on(host: str) -> FirestoreStore:
    return FirestoreStore("retrain-local", f"t{uuid.uuid4().hex[:8]}", emulator=host)


def claiming(job_id: str, holder: str = "h1") -> Step:
    """A step that claims one run for a new event and replays the record for a redelivery."""

    def step(state: SpecState, prior: EventRecord | None) -> Transition:
        if prior is not None:
            return Transition(record=prior, redelivered=True, claim=state.claim(prior.job_id))
        claim = Claim(
            job_id=job_id, rows=5, events=1, window=1, version="v", claimed_at=NOW, holder=holder
        )
        record = EventRecord(decision="run", job_id=job_id)
        return Transition(record=record, state=state.model_copy(update={"claims": (claim,)}))

    return step


def test_a_redelivery_writes_nothing(firestore_emulator: str) -> None:
    store = store_on(firestore_emulator)
    first = store.transact("s", "e1", claiming("s-data-1"))
    assert first.state is not None and first.state.claims[0].leased_at is not None
    before = store._spec_ref("s").get().update_time
    again = store.transact("s", "e1", claiming("s-data-1"))
    assert again.redelivered and again.claim is not None and again.claim.holder == "h1"
    assert store._spec_ref("s").get().update_time == before


def test_the_lease_is_measured_by_firestores_clock(firestore_emulator: str) -> None:
    """The claim's time says 2026-03-02 (the claimant's clock); its lease was stamped with
    Firestore's time, so it is fresh whatever the claimed time says."""
    store = store_on(firestore_emulator)
    store.transact("s", "e1", claiming("s-data-1"))
    assert store.take_over("s", "s-data-1", "h2", timedelta(minutes=2)) is None
    taken = store.take_over("s", "s-data-1", "h2", timedelta(0))
    assert taken is not None and taken.holder == "h2"


def test_one_of_many_racing_holders_takes_a_released_claim(firestore_emulator: str) -> None:
    store = store_on(firestore_emulator)
    store.transact("s", "e1", claiming("s-data-1"))
    store.release("s", "s-data-1", "h1")
    holders = [f"h{i}" for i in range(2, 10)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        lease = timedelta(minutes=2)
        won = list(pool.map(lambda h: store.take_over("s", "s-data-1", h, lease), holders))
    winners = [c for c in won if c is not None]
    assert len(winners) == 1
    state = store.read("s")
    assert state is not None and state.claims[0].holder == winners[0].holder


def test_accept_is_idempotent_and_leaves_nothing_after_the_claim_is_gone(
    firestore_emulator: str,
) -> None:
    store = store_on(firestore_emulator)
    store.transact("s", "e1", claiming("s-data-1"))
    store.accept("s", "s-data-1", NOW)
    store.accept("s", "s-data-1", NOW)
    state = store.read("s")
    assert state is not None and state.claims[0].accepted and state.last_job_id == "s-data-1"
    ended = state.model_copy(update={"claims": ()})
    gone = Transition(record=EventRecord(decision="run"), state=ended)
    store.update("s", lambda state: gone)
    store.accept("s", "s-data-1", NOW)  # an acceptance landing after the run's end
    after = store.read("s")
    assert after is not None and after.claims == ()


def test_many_instances_on_one_spec_all_finish(firestore_emulator: str) -> None:
    """Eight stores (instances) at once: 40 distinct events and 10 copies of each."""
    stores = [store_on(firestore_emulator) for _ in range(8)]
    prefix = stores[0]._prefix
    for store in stores:
        store._prefix = prefix

    def count(state: SpecState, prior: EventRecord | None) -> Transition:
        if prior is not None:
            return Transition(record=prior, redelivered=True)
        added = state.model_copy(update={"pending_rows": state.pending_rows + 1})
        return Transition(record=EventRecord(decision="debounced"), state=added)

    def deliver(job: tuple[int, str]) -> Transition:
        for attempt in range(20):  # as Pub/Sub: a TransientError is delivered again, later
            try:
                return stores[(job[0] + attempt) % 8].transact("s", job[1], count)
            except TransientError:
                time.sleep(0.2)
        raise AssertionError(f"{job[1]} never admitted")

    work = [(i % 8, f"e{n}") for i, n in enumerate(list(range(40)) * 10)]
    pool = ThreadPoolExecutor(max_workers=16)
    futures = [pool.submit(deliver, job) for job in work]
    done, stuck = wait(futures, timeout=90)  # the store in main took longer than 400 s
    pool.shutdown(wait=not stuck, cancel_futures=True)
    assert not stuck, f"{len(stuck)} of {len(work)} deliveries still waiting after 90 s"
    for future in done:
        future.result()
    state = stores[0].read("s")
    assert state is not None and state.pending_rows == 40
