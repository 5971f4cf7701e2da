"""The Vertex adapter against a local fake of the v1 REST API: the real aiplatform_v1 client
serialises every request."""

from __future__ import annotations

import pytest

from retrain.errors import TransientError
from retrain.google.vertex import VertexBackend
from retrain.localstack.fake_vertex import FakeVertex
from retrain.routing.decision import MemoryLog
from retrain.routing.index import load_index
from retrain.routing.service import Service
from retrain.runs import RunRequest
from retrain.state.memory import MemoryStore
from tests.fakes.sink import RecordingSink
from tests.fakes.templates import MemoryTemplates, compiled
from tests.integration.conftest import SPECS
from tests.routing.helpers import arrival

REQUEST = RunRequest(
    job_id="churn-data-0123456789abcdef0123",
    spec="churn",
    spec_version="3f2a9b1c0d4e",
    trigger="data_arrival",
    git_sha="9b241c8d31745115ca281886361fc70f565f071f",
    event_id="11111111111",
    data_window="2026-03-02T10:00:00Z/2026-03-02T11:00:00Z",
)


REGISTRY = "https://europe-west4-kfp.pkg.dev/acme/pipelines/{spec}/{git_sha}"


def backend_for(
    vertex_fake: FakeVertex, sleeps: list[float] | None = None, template_uri: str = REGISTRY
) -> VertexBackend:
    uris = {
        template_uri.format(spec=spec, git_sha=sha): compiled()
        for spec in ("churn", "house-prices")
        for sha in (REQUEST.git_sha, "9b241c8")
    }
    return VertexBackend(
        project="acme-analytics",
        region="europe-west4",
        template_uri=template_uri,
        templates=MemoryTemplates(uris),
        pipeline_root="gs://acme-ml/root/",
        service_account="runner@acme-analytics.iam.gserviceaccount.com",
        api_endpoint=vertex_fake.endpoint,
        sleep=(sleeps if sleeps is not None else []).append,
    )


def test_create_sends_template_parameters_and_labels(vertex_fake: FakeVertex) -> None:
    backend = backend_for(vertex_fake)
    assert backend.submit(REQUEST) is True
    (call,) = vertex_fake.requests
    assert call.method == "POST"
    assert call.path == "/v1/projects/acme-analytics/locations/europe-west4/pipelineJobs"
    assert call.query["pipelineJobId"] == [REQUEST.job_id]
    assert "authorization" not in call.headers
    body = call.body or {}
    assert body["templateUri"] == (
        "https://europe-west4-kfp.pkg.dev/acme/pipelines/churn/9b241c8d31745115ca281886361fc70f565f071f"
    )
    assert body["pipelineSpec"] == compiled()  # always inline, as the SDK sends it
    assert body["runtimeConfig"] == {  # schema 2.0.0: typed Values under `parameters`
        "gcsOutputDirectory": "gs://acme-ml/root/churn",
        "parameters": {k: {"stringValue": v} for k, v in REQUEST.parameters().items()},
    }
    assert body["labels"] == REQUEST.labels()
    assert body["serviceAccount"] == "runner@acme-analytics.iam.gserviceaccount.com"


def test_already_exists_is_success_without_a_second_job(vertex_fake: FakeVertex) -> None:
    backend = backend_for(vertex_fake)
    assert backend.submit(REQUEST) is True
    assert backend.submit(REQUEST) is False
    assert len(vertex_fake.jobs) == 1


def test_unavailable_is_retried_with_backoff(vertex_fake: FakeVertex) -> None:
    sleeps: list[float] = []
    backend = backend_for(vertex_fake, sleeps)
    vertex_fake.fail_next(503, times=2)
    assert backend.submit(REQUEST) is True
    assert sleeps == [0.5, 1.0] and len(vertex_fake.requests) == 3


def test_deadline_exceeded_past_the_budget_is_transient(vertex_fake: FakeVertex) -> None:
    sleeps: list[float] = []
    backend = backend_for(vertex_fake, sleeps)
    vertex_fake.fail_next(504, times=4)
    with pytest.raises(TransientError, match="after 4 attempts"):
        backend.submit(REQUEST)
    assert sleeps == [0.5, 1.0, 2.0] and vertex_fake.jobs == {}


def test_running_lists_active_jobs_of_the_spec_and_describe_reads_labels(
    vertex_fake: FakeVertex,
) -> None:
    backend = backend_for(vertex_fake)
    backend.submit(REQUEST)
    other = REQUEST.model_copy(update={"job_id": "house-prices-data-1", "spec": "house-prices"})
    backend.submit(other)
    assert backend.running("churn") == [REQUEST.job_id]
    vertex_fake.set_state(REQUEST.job_id, "PIPELINE_STATE_SUCCEEDED")
    assert backend.running("churn") == []
    info = backend.describe(REQUEST.job_id)
    assert info is not None and info.state == "PIPELINE_STATE_SUCCEEDED"
    assert (
        info.labels["retrain-spec"] == "churn" and info.pipeline_root == "gs://acme-ml/root/churn"
    )
    assert backend.describe("nope") is None


@pytest.mark.parametrize(
    ("state", "active"),
    [
        ("PIPELINE_STATE_QUEUED", True),
        ("PIPELINE_STATE_PENDING", True),
        ("PIPELINE_STATE_RUNNING", True),
        ("PIPELINE_STATE_CANCELLING", True),  # still holds its resources until cancelled
        ("PIPELINE_STATE_PAUSED", True),  # resumes where it stopped
        ("PIPELINE_STATE_SUCCEEDED", False),
        ("PIPELINE_STATE_FAILED", False),
        ("PIPELINE_STATE_CANCELLED", False),
    ],
)
def test_max_concurrent_runs_counts_every_unfinished_state(
    vertex_fake: FakeVertex, state: str, active: bool
) -> None:
    """Every PipelineState (aiplatform_v1 types/pipeline_state.py) that is not final counts
    against the spec's concurrency limit."""
    backend = backend_for(vertex_fake)
    backend.submit(REQUEST)
    vertex_fake.set_state(REQUEST.job_id, state)
    assert backend.running("churn") == ([REQUEST.job_id] if active else [])


def test_service_on_vertex_runs_once_for_a_redelivered_event(vertex_fake: FakeVertex) -> None:
    index = load_index(SPECS)
    log = MemoryLog()
    service = Service(
        index=lambda: index,
        store=MemoryStore(),
        backend=backend_for(vertex_fake),
        sink=RecordingSink,
        log=log,
        git_sha="9b241c8",
    )
    body = arrival(700, "vertex-1")
    service.handle("data_arrival", body)
    service.handle("data_arrival", body)
    assert [d.decision for d in log.decisions] == ["run", "deduplicated"]
    assert len(vertex_fake.jobs) == 1
