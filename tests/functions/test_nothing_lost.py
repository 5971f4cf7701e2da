"""Nothing lost, nothing silent: the data-arrival scenarios that used to lose rows or leave
them waiting forever, and the inputs that used to be answered 500 forever, through the real
functions-framework test client on a service built from in-memory ports."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from retrain.events.bigquery import table_data_change_entry
from retrain.events.envelope import pubsub_body
from retrain.routing.policy import LEASE, latest_window
from retrain.runs import RunRequest
from retrain.state.memory import MemoryStore
from tests.fakes.backend import RecordingBackend, RefusingBackend
from tests.fakes.clock import T0, FakeClock
from tests.functions.test_functions import binary, client_for, structured
from tests.routing.helpers import CHURN_TABLE, arrival, completion, make_service, tick_flush

__all__ = ["client_for"]  # the fixture, imported for pytest


class CrashingBackend(RecordingBackend):
    """The instance dies during the next submit, before the backend saw the request."""

    def __init__(self) -> None:
        super().__init__()
        self.crash = True

    def submit(self, request: RunRequest) -> bool:
        if self.crash:
            self.crash = False
            raise RuntimeError("instance killed mid-submit (injected)")
        return super().submit(request)


class StaleView:
    """Another instance's view of the backend: its running-jobs read came before a run
    started elsewhere (the read happens outside the transaction)."""

    def __init__(self, backend: RecordingBackend) -> None:
        self.backend = backend

    def submit(self, request: RunRequest) -> bool:
        return self.backend.submit(request)

    def running(self, spec: str) -> list[str]:
        del spec
        return []

    def describe(self, job_id: str) -> Any:
        return self.backend.describe(job_id)


def rows_of(backend: RecordingBackend, log: Any) -> int:
    """The rows the accepted data-arrival runs took, as their decisions say."""
    total = 0
    for d in log.decisions:
        if d.decision == "run" and d.job_id in backend.jobs and "new rows" in d.reason:
            total += int(d.reason.removeprefix("wake-up: ").split(" ")[0])
    return total


def post(client: Any, body: dict[str, Any], mode: Any = structured) -> int:
    return int(client.post("/", **mode(body)).status_code)


def test_a_rows_kept_while_busy_run_when_the_run_ends(client_for: Any) -> None:
    data, module = client_for("on_data_arrival")
    clock = FakeClock(T0)
    service, backend, log, _ = make_service(clock=clock)
    module.use_service(service)
    assert post(data, arrival(600, "j1")) == 200
    clock.now = T0 + timedelta(hours=2)  # times are bounded by now
    assert post(data, arrival(600, "j2", T0 + timedelta(hours=2)), binary) == 200
    assert [d.decision for d in log.decisions] == ["run", "debounced"]
    first = log.decisions[0].job_id
    backend.finish(first)
    done, module = client_for("on_run_complete")
    module.use_service(service)
    clock.advance(timedelta(hours=1))
    assert post(done, completion(backend, first)) == 200  # no further data event
    assert [d.decision for d in log.decisions] == ["run", "debounced", "completed", "run"]
    assert rows_of(backend, log) == 1200 and len(backend.jobs) == 2


def test_b_rows_after_a_run_in_its_window_run_at_the_wake_up(client_for: Any) -> None:
    data, module = client_for("on_data_arrival")
    clock = FakeClock(T0 + timedelta(minutes=10))
    service, backend, log, _ = make_service(clock=clock)
    module.use_service(service)
    assert post(data, arrival(600, "j1")) == 200
    backend.finish(log.decisions[0].job_id)
    clock.now = T0 + timedelta(minutes=20)  # times are bounded by now
    assert post(data, arrival(700, "j2", T0 + timedelta(minutes=20))) == 200
    assert [d.decision for d in log.decisions] == ["run", "debounced"]
    ticks, module = client_for("on_schedule")
    module.use_service(service)
    assert post(ticks, tick_flush(clock.now)) == 200  # same window: not yet
    assert [d.decision for d in log.decisions[2:]] == ["completed"]  # j1's, its event lost
    clock.advance(timedelta(hours=1))
    assert post(ticks, tick_flush(clock.now), binary) == 200
    assert log.decisions[-1].decision == "run" and len(backend.jobs) == 2
    assert rows_of(backend, log) == 1300


def test_c_a_late_entry_never_moves_the_window_back(client_for: Any) -> None:
    data, module = client_for("on_data_arrival")
    clock = FakeClock(T0 + timedelta(hours=5))
    service, backend, log, _ = make_service(clock=clock)
    module.use_service(service)
    assert post(data, arrival(600, "j1", T0 + timedelta(hours=3))) == 200
    backend.finish(log.decisions[0].job_id)
    assert post(data, arrival(600, "late", T0 + timedelta(hours=1))) == 200  # out of order
    assert post(data, arrival(10, "j3", T0 + timedelta(hours=3, minutes=5))) == 200
    assert [d.decision for d in log.decisions] == ["run", "debounced", "debounced"]
    state = service.store.specs["churn"]  # type: ignore[attr-defined]
    assert state.pending_rows == 610 and latest_window(state) is not None
    clock.advance(timedelta(hours=1))
    ticks, module = client_for("on_schedule")
    module.use_service(service)
    assert post(ticks, tick_flush(clock.now)) == 200  # j1's lost completion, and the kept rows
    assert [d.decision for d in log.decisions][-2:] == ["run", "completed"]
    assert "deduplicated" not in [d.decision for d in log.decisions]
    assert rows_of(backend, log) == 1210


def test_d_a_refused_submit_keeps_the_rows_and_says_so(client_for: Any) -> None:
    data, module = client_for("on_data_arrival")
    clock = FakeClock(T0)
    backend = RefusingBackend(refusals=1)
    service, _, log, _ = make_service(backend=backend, clock=clock)
    module.use_service(service)
    assert post(data, arrival(600, "j1")) == 200
    assert log.decisions[0].decision == "rejected" and "403" in log.decisions[0].reason
    state = service.store.specs["churn"]  # type: ignore[attr-defined]
    assert state.pending_rows == 600 and state.claims == () and backend.jobs == {}
    clock.advance(timedelta(hours=1))
    ticks, module = client_for("on_schedule")
    module.use_service(service)
    assert post(ticks, tick_flush(clock.now)) == 200
    assert log.decisions[-1].decision == "run" and rows_of(backend, log) == 600


def test_e_a_crash_after_the_state_write_keeps_the_rows(client_for: Any) -> None:
    data, module = client_for("on_data_arrival")
    clock = FakeClock(T0)
    backend = CrashingBackend()
    service, _, log, _ = make_service(backend=backend, clock=clock)
    module.use_service(service)
    assert post(data, arrival(600, "j1")) == 500  # the instance died; Pub/Sub redelivers...
    state = service.store.specs["churn"]  # type: ignore[attr-defined]
    assert [c.rows for c in state.claims] == [600] and not state.claims[0].accepted
    clock.advance(LEASE)  # ...or, if the redelivery is lost, the wake-up resubmits
    ticks, module = client_for("on_schedule")
    module.use_service(service)
    assert post(ticks, tick_flush(clock.now)) == 200
    assert log.decisions[-1].decision == "run" and len(backend.jobs) == 1
    assert service.store.specs["churn"].claims[0].accepted  # type: ignore[attr-defined]


def test_f_two_instances_respect_the_concurrency_limit(client_for: Any) -> None:
    # A minute apart (the second instance's stale view is not yet settled), in two windows
    # (so only the concurrency limit can hold the second back); times are bounded by now.
    first, second = T0 + timedelta(minutes=59, seconds=30), T0 + timedelta(minutes=60, seconds=30)
    store, backend, clock = MemoryStore(), RecordingBackend(), FakeClock(first)
    one, _, log_one, _ = make_service(store=store, backend=backend, clock=clock)
    stale = StaleView(backend)
    two, _, log_two, _ = make_service(store=store, backend=stale, clock=clock)  # type: ignore[arg-type]
    data, module = client_for("on_data_arrival")
    module.use_service(one)
    assert post(data, arrival(600, "j1", first)) == 200
    clock.now = second
    module.use_service(two)
    assert post(data, arrival(600, "j2", second)) == 200
    assert [d.decision for d in log_one.decisions + log_two.decisions] == ["run", "debounced"]
    assert "run(s) in progress, limit 1" in log_two.decisions[0].reason
    assert len(backend.jobs) == 1


# -- poison inputs: each answered 2xx with a recorded decision --------------------------------


def _raw_body(text: str, message_id: str = "poison") -> dict[str, Any]:
    return {
        "message": {
            "data": base64.b64encode(text.encode()).decode(),
            "messageId": message_id,
            "publishTime": "2026-03-02T10:00:00Z",
        },
        "subscription": "projects/acme/subscriptions/s",
    }


def _entry_text(rows: str, timestamp: str = "2026-03-02T10:00:00Z") -> str:
    entry = table_data_change_entry(CHURN_TABLE, 1, "j-poison", T0)
    entry["timestamp"] = timestamp
    text = json.dumps(entry)
    return text.replace('"insertedRowsCount": "1"', f'"insertedRowsCount": {rows}')


POISON = {
    "integer of 5000 digits": _raw_body(_entry_text("1" * 5000)),
    "row count 2^63": _raw_body(_entry_text(str(2**63))),
    "row count 2^64 as a string": _raw_body(_entry_text(f'"{2**64}"')),
    "year 9999": _raw_body(_entry_text('"1"', "9999-12-31T23:59:59.999999Z")),
    "year 1 with an offset": _raw_body(_entry_text('"1"', "0001-01-01T00:00:00+14:00")),
    "nested 100000 deep": _raw_body('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    "nested 900 deep": _raw_body('{"protoPayload": ' + '{"a": ' * 900 + "1" + "}" * 901),
}


@pytest.mark.parametrize("name", sorted(POISON))
def test_poison_data_events_get_an_answer(client_for: Any, name: str) -> None:
    data, module = client_for("on_data_arrival")
    service, backend, log, _ = make_service()
    module.use_service(service)
    assert post(data, POISON[name]) == 200
    assert [d.decision for d in log.decisions] in (["rejected"], ["ignored"]), log.decisions
    assert backend.jobs == {}


def test_poison_schedule_tick_at_the_calendar_edge(client_for: Any) -> None:
    ticks, module = client_for("on_schedule")
    service, _, log, _ = make_service()
    module.use_service(service)
    body = pubsub_body({"spec": "churn", "schedule": "0 5 * * 1"}, "t", {}, "9999-12-31T23:59Z")
    assert post(ticks, body) == 200 and log.decisions[0].decision == "rejected"


def test_counts_saturate_instead_of_overflowing_int64(client_for: Any) -> None:
    data, module = client_for("on_data_arrival")
    service, backend, _, _ = make_service()
    module.use_service(service)
    backend.active.add("someone-else")  # busy: rows accumulate
    backend.jobs["someone-else"] = RunRequest(
        job_id="someone-else", spec="churn", spec_version="v", trigger="manual"
    )
    big = 2**63 - 1
    for i in range(3):
        entry = table_data_change_entry(CHURN_TABLE, big, f"big-{i}", T0)
        assert post(data, pubsub_body(entry, f"m{i}", {})) == 200
    assert service.store.specs["churn"].pending_rows == big  # type: ignore[attr-defined]
