"""Faults at the edges: the fake Vertex server and the fake GitHub fail (503, timeouts, 429/403
rate limits, 500 after the resource was made), and every event still ends with one run and
one comment, or a recorded rejection.

Each scenario is one data-arrival event, delivered as Pub/Sub would (again after a
TransientError, a bounded number of times), then the run's completion event, likewise. The
real aiplatform_v1 client and the real PyGithub client do the talking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from retrain.backends.base import ProductionRuns
from retrain.codehost.github import GitHubCodeHost, build_client
from retrain.completion import CompletionHandler
from retrain.errors import TransientError
from retrain.events.envelope import pubsub_body
from retrain.events.pipeline_job import state_change_entry
from retrain.google.vertex import VertexBackend
from retrain.localstack.fake_vertex import FakeVertex
from retrain.routing.decision import Decision, MemoryLog
from retrain.routing.index import load_index
from retrain.routing.service import Service
from retrain.state.memory import MemoryStore
from retrain.summary import dump_summary, summary_path
from tests.fakes.blobs import MemoryBlobs
from tests.fakes.faulty_github import FaultyGitHub
from tests.fakes.github_client import settings_for
from tests.fakes.summaries import load
from tests.fakes.templates import MemoryTemplates, compiled
from tests.routing.helpers import SPECS, arrival

TEMPLATE_URI = "gs://acme-ml/templates/churn.json"
DELIVERIES = 5  # a subscription's max_delivery_attempts before the dead-letter topic


def deliver(handle: Callable[[dict[str, Any]], list[Decision]], body: dict[str, Any]) -> int:
    """Deliver until acknowledged; the number of deliveries it took."""
    for attempt in range(1, DELIVERIES + 1):
        try:
            handle(body)
        except TransientError:
            continue
        return attempt
    raise AssertionError(f"still failing after {DELIVERIES} deliveries (dead-lettered)")


@dataclass(frozen=True)
class Scenario:
    vertex: Callable[[FakeVertex], None] = lambda _: None
    github: Callable[[FaultyGitHub], None] = lambda _: None
    rejected: str = ""  # the event ends in a recorded rejection mentioning this


def _rate_limited(g: FaultyGitHub) -> None:
    g.fail_next(
        "GET",
        r"/branches/",
        403,
        {"message": "API rate limit exceeded for installation ID 77."},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0"},
    )


def _github_both(g: FaultyGitHub) -> None:
    g.fail_after("POST", r"/pulls$")
    g.delay_next("GET", r"/pulls$", 2.5)


COMMENTS = r"/issues/\d+/comments$"
SCENARIOS = {
    "no faults": Scenario(),
    "vertex 503 twice": Scenario(vertex=lambda v: v.fail_next(503, times=2)),
    "vertex 503 longer than one delivery": Scenario(vertex=lambda v: v.fail_next(503, times=6)),
    "vertex 429 quota": Scenario(vertex=lambda v: v.fail_next(429, times=2)),
    "vertex timeout": Scenario(vertex=lambda v: v.delay_next(1.5, times=2)),
    "vertex 500 after create": Scenario(
        vertex=lambda v: v.fail_next(500, after_create=True, method="POST")
    ),
    "vertex 403 on create": Scenario(
        vertex=lambda v: v.fail_next(403, method="POST"), rejected="backend refused"
    ),
    "vertex 403 on list": Scenario(
        vertex=lambda v: v.fail_next(403, method="GET"), rejected="backend refused"
    ),
    "github 503 on comment": Scenario(github=lambda g: g.fail_next("POST", COMMENTS, 503)),
    "github timeout": Scenario(github=lambda g: g.delay_next("GET", COMMENTS, 2.5)),
    "github 429": Scenario(
        github=lambda g: g.fail_next(
            "POST", r"/pulls$", 429, {"message": "slow down"}, {"Retry-After": "0"}
        )
    ),
    "github 403 rate limit": Scenario(github=_rate_limited),
    "github 500 after comment made": Scenario(github=lambda g: g.fail_after("POST", COMMENTS)),
    "github 500 after pull made": Scenario(github=lambda g: g.fail_after("POST", r"/pulls$")),
    "both fail": Scenario(
        vertex=lambda v: v.fail_next(500, after_create=True, method="POST"), github=_github_both
    ),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_event_ends_with_one_run_and_one_comment_or_a_rejection(
    name: str, vertex_fake: FakeVertex, faulty_github: FaultyGitHub, tmp_path: Path
) -> None:
    scenario = SCENARIOS[name]
    index = load_index(SPECS)
    backend = VertexBackend(
        project="acme-analytics",
        region="europe-west4",
        template_uri=TEMPLATE_URI,
        templates=MemoryTemplates({TEMPLATE_URI: compiled()}),
        pipeline_root="gs://acme-ml/root",
        api_endpoint=vertex_fake.endpoint,
        first_delay=0.01,
        timeout=0.5,
    )
    host = GitHubCodeHost(build_client(settings_for(faulty_github, timeout=1)), "acme/models")
    blobs = MemoryBlobs()
    log = MemoryLog()
    service = Service(
        index=lambda: index,
        store=MemoryStore(),
        backend=backend,
        sink=lambda: CompletionHandler(host=host, blobs=blobs),
        log=log,
        git_sha="9b241c8d31745115ca281886361fc70f565f071f",
        production=ProductionRuns("", lambda spec: f"gs://acme-ml/root/{spec}", TEMPLATE_URI),
    )

    scenario.vertex(vertex_fake)
    deliver(lambda body: service.handle("data_arrival", body), arrival(900, "faulty-load"))
    kinds = [d.decision for d in log.decisions]
    if scenario.rejected:
        assert kinds == ["rejected"] and scenario.rejected in log.decisions[0].reason
        assert "403" in log.decisions[0].reason
        assert vertex_fake.jobs == {}
        return
    assert kinds.count("run") == 1 and set(kinds) <= {"run", "deduplicated"}
    (name_,) = vertex_fake.jobs
    job = vertex_fake.jobs[name_]
    job_id = name_.rsplit("/", 1)[-1]
    assert log.decisions[kinds.index("run")].job_id == job_id

    # the run ends: its summary is where the completion handler looks
    root = job["runtimeConfig"]["gcsOutputDirectory"]
    summary = load("churn_pass")
    run = summary.run.model_copy(update={"run_id": job_id, "pipeline_root": root})
    blobs.write_bytes(
        summary_path(root, job_id), dump_summary(summary.model_copy(update={"run": run})).encode()
    )
    vertex_fake.set_state(job_id, "PIPELINE_STATE_SUCCEEDED")
    entry = state_change_entry(
        project="acme-analytics",
        location="europe-west4",
        job_id=job_id,
        state="PIPELINE_STATE_SUCCEEDED",
        labels=job["labels"],
        pipeline_root=root,
        time=datetime(2026, 3, 2, 12, tzinfo=timezone.utc),
    )
    scenario.github(faulty_github)
    deliver(lambda body: service.handle("run_complete", body), pubsub_body(entry, "done-1", {}))
    completed = [d for d in log.decisions if d.event == "run_complete"]
    assert {d.decision for d in completed} == {"completed"}, completed
    (pr,) = faulty_github.open_pulls()
    comments = faulty_github.comments_on(pr)
    assert len(comments) == 1 and job_id in comments[0]["body"]
    assert faulty_github.pull(pr)["title"] == f"Promote churn to {job_id}"
