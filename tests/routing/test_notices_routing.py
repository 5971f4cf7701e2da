"""What the routing service tells the spec's notice: a refused start, and staleness."""

from __future__ import annotations

from datetime import timedelta

import yaml

from retrain.routing.index import SpecIndex
from retrain.spec.load import parse_spec
from tests.fakes.backend import RefusingBackend
from tests.fakes.clock import T0, FakeClock
from tests.fakes.notices import RecordingNotices
from tests.routing.helpers import SPECS, arrival, completion, make_service, tick_flush


def _index(max_staleness: str) -> SpecIndex:
    raw = yaml.safe_load((SPECS / "churn.yaml").read_text())
    raw["triggers"]["max_staleness"] = max_staleness
    return SpecIndex([parse_spec(yaml.safe_dump(raw), "churn.yaml")])


def test_a_refused_start_raises_the_notice() -> None:
    notices = RecordingNotices()
    service, _, log, _ = make_service(backend=RefusingBackend(refusals=1), notices=notices)
    service.handle("data_arrival", arrival(600, "j1"))
    (problem,) = notices.problems
    assert problem.kind == "refused" and "403" in problem.error and problem.spec == "churn"
    assert [d.decision for d in log.decisions] == ["rejected"]


def test_no_success_for_max_staleness_says_so_once_until_the_next_success() -> None:
    notices = RecordingNotices()
    clock = FakeClock(T0)
    service, backend, log, _ = make_service(index=_index("2d"), clock=clock, notices=notices)
    service.handle("schedule", tick_flush(clock.now))  # the clock starts: first look
    clock.advance(timedelta(days=2))
    service.handle("schedule", tick_flush(clock.now))
    service.handle("schedule", tick_flush(clock.now + timedelta(minutes=1)))
    (stale,) = notices.problems
    assert stale.kind == "stale" and "max_staleness 2d" in stale.summary
    assert [d.reason.startswith("stale:") for d in log.decisions if d.alert] == [True]
    service.handle("data_arrival", arrival(600, "j1", clock.now))
    (job_id,) = backend.active
    backend.finish(job_id)
    service.handle("run_complete", completion(backend, job_id))
    clock.advance(timedelta(days=1))
    service.handle("schedule", tick_flush(clock.now))
    assert len(notices.problems) == 1  # a success less than 2d ago
    clock.advance(timedelta(days=1, minutes=1))
    service.handle("schedule", tick_flush(clock.now))
    assert [p.kind for p in notices.problems] == ["stale", "stale"]
