"""A pull request's candidate run never acts on production (issue 25, findings 1 and 2).

Its summary is written by the PR's own pipeline, and its labels by whoever created the job: a
candidate may comment on its own PR and nothing else. No drift alert (which would start a
production run with the PR's values), no schema change PR, no promotion PR, no notice on
production's issue. Whether a run is production is proven by the backend (who ran it, from
which template, under which root), never by its labels.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from retrain.backends.base import JobInfo, ProductionRuns
from retrain.codehost.github import GitHubCodeHost, build_client
from retrain.completion import CompletionHandler
from retrain.completion.alerts import TopicAlerts
from retrain.events.envelope import pubsub_body
from retrain.events.pipeline_job import state_change_entry
from retrain.google.vertex import VertexBackend
from retrain.localstack.fake_vertex import FakeVertex
from retrain.report.notice import Incident
from retrain.routing.decision import MemoryLog
from retrain.routing.index import load_index
from retrain.routing.service import Service
from retrain.runs import Baseline, RunOutcome, RunRequest
from retrain.state.memory import MemoryStore
from retrain.summary import EvaluationSummary, dump_summary, summary_path
from tests.fakes.blobs import MemoryBlobs
from tests.fakes.faulty_github import FaultyGitHub
from tests.fakes.github_client import settings_for
from tests.fakes.summaries import load
from tests.fakes.templates import MemoryTemplates, compiled
from tests.routing.helpers import SPECS

PIPELINES = "gs://acme-ml/pipelines"
PRODUCTION_SA = "retrain-pipelines@acme-ml.iam.gserviceaccount.com"
CANDIDATE_SA = "retrain-candidate-runs@acme-ml.iam.gserviceaccount.com"
TEMPLATES = "gs://acme-ml/templates/{spec}/{git_sha}.json"
CANDIDATE_TEMPLATES = "gs://acme-ml/candidates/{spec}/{git_sha}.json"
SHA = "9b241c8d31745115ca281886361fc70f565f071f"
PRODUCTION = ProductionRuns(PRODUCTION_SA, lambda spec: f"{PIPELINES}/{spec}", TEMPLATES)


class Publisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def publish(self, topic: str, payload: dict[str, Any], attributes: dict[str, str]) -> None:
        self.sent.append((topic, payload, attributes))


class Notices:
    def __init__(self) -> None:
        self.reported: list[Incident] = []
        self.resolved: list[tuple[str, str]] = []

    def report(self, problem: Incident) -> None:
        self.reported.append(problem)

    def resolve(self, spec: str, job_id: str) -> None:
        self.resolved.append((spec, job_id))


def _write(blobs: MemoryBlobs, root: str, job_id: str, summary: EvaluationSummary) -> None:
    run = summary.run.model_copy(update={"run_id": job_id, "pipeline_root": root})
    blobs.write_bytes(
        summary_path(root, job_id), dump_summary(summary.model_copy(update={"run": run})).encode()
    )


def _handler(github: FaultyGitHub, blobs: MemoryBlobs) -> tuple[CompletionHandler, Any, Any]:
    publisher, notices = Publisher(), Notices()
    host = GitHubCodeHost(build_client(settings_for(github)), "acme/models")
    handler = CompletionHandler(
        host=host,
        blobs=blobs,
        notices=notices,
        alerts=TopicAlerts(publisher, "retrain-drift-alert"),
        specs_dir="specs",
    )
    return handler, publisher, notices


# -- finding 1: a PR's run comments on its PR, and that is all ---------------------------------


def test_a_pull_request_run_with_anomalies_only_comments_on_its_pr(
    faulty_github: FaultyGitHub,
) -> None:
    """Its new category and drift would have become a drift alert (a production run with the
    PR's data window) and a schema change PR against main."""
    blobs = MemoryBlobs()
    handler, publisher, notices = _handler(faulty_github, blobs)
    pr = faulty_github.open_pr()
    root = f"{PIPELINES}/candidates/churn"
    _write(blobs, root, "churn-pr-42-abc", load("churn_nan"))  # a new category, drift
    outcome = RunOutcome(
        job_id="churn-pr-42-abc",
        spec="churn",
        state="succeeded",
        trigger="pull_request",
        pr_number=pr,
        pipeline_root=root,
    )
    result = handler.process(outcome)
    assert (result.action, result.pr_number) == ("commented", pr)
    assert len(faulty_github.comments_on(pr)) == 1
    assert publisher.sent == []  # no drift alert
    assert faulty_github.open_pulls() == [pr]  # no schema change PR, no promotion PR
    assert (notices.reported, notices.resolved) == ([], [])


@pytest.mark.parametrize("state", ["succeeded", "failed"])
def test_a_run_not_proven_production_acts_on_nothing_whatever_its_trigger(
    faulty_github: FaultyGitHub, state: str
) -> None:
    """Labelled data_arrival, blessed, with a new category: still not production's run."""
    blobs = MemoryBlobs()
    handler, publisher, notices = _handler(faulty_github, blobs)
    root = f"{PIPELINES}/candidates/churn"
    _write(blobs, root, "churn-data-forged", load("churn_nan").model_copy(update={"blessed": True}))
    outcome = RunOutcome(
        job_id="churn-data-forged",
        spec="churn",
        state=state,
        trigger="data_arrival",
        pipeline_root=root,
        error="" if state == "succeeded" else "Trainer: exit 1",
    )
    result = handler.process(outcome)
    assert result.action == "skipped"
    assert publisher.sent == []
    assert faulty_github.open_pulls() == []
    assert (notices.reported, notices.resolved) == ([], [])


# -- finding 2: identity comes from the backend ------------------------------------------------


def _job(**changes: Any) -> JobInfo:
    values: dict[str, Any] = {
        "job_id": "churn-data-1",
        "state": "PIPELINE_STATE_SUCCEEDED",
        "labels": {"retrain-spec": "churn", "retrain-trigger": "data_arrival"},
        "pipeline_root": f"{PIPELINES}/churn",
        "service_account": PRODUCTION_SA,
        **changes,
    }
    return JobInfo(**values)


def test_production_is_the_identity_the_template_and_the_specs_own_root() -> None:
    assert PRODUCTION.refusal(_job(), "churn") == ""
    assert PRODUCTION.refusal(_job(pipeline_root=f"{PIPELINES}/churn/"), "churn") == ""


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"service_account": CANDIDATE_SA}, "not as the production pipelines identity"),
        ({"service_account": ""}, "ran as 'the default identity'"),
        ({"pipeline_root": f"{PIPELINES}/candidates/churn"}, "is not production's root"),
        ({"pipeline_root": f"{PIPELINES}/house-prices"}, "is not production's root"),
        ({"pipeline_root": f"{PIPELINES}/churn/x"}, "is not production's root"),
        ({"pipeline_root": f"{PIPELINES}"}, "is not production's root"),
        (
            {"template_uri": "https://europe-west4-kfp.pkg.dev/acme-ml/candidates/churn/x"},
            "is not a production template",
        ),
    ],
)
def test_anything_else_is_a_candidate(changes: dict[str, Any], why: str) -> None:
    assert why in PRODUCTION.refusal(_job(**changes), "churn")


def test_registry_templates_must_be_productions_own() -> None:
    registry = "https://europe-west4-kfp.pkg.dev/acme-ml/retrain/{spec}/{git_sha}"
    production = ProductionRuns(PRODUCTION_SA, lambda spec: f"{PIPELINES}/{spec}", registry)
    ours = "https://europe-west4-kfp.pkg.dev/acme-ml/retrain/churn/" + SHA
    assert production.refusal(_job(template_uri=ours), "churn") == ""
    for other in (
        "",  # an inline spec: anything at all
        "https://europe-west4-kfp.pkg.dev/acme-ml/retrain-candidates/churn/" + SHA,
        "https://europe-west4-kfp.pkg.dev/acme-ml/retrain/house-prices/" + SHA,
        "https://europe-west4-kfp.pkg.dev/acme-ml/retrain/churn/" + SHA + "/../x",
    ):
        assert "is not a production template" in production.refusal(
            _job(template_uri=other), "churn"
        ), other


def _backend(vertex: FakeVertex, account: str, templates: str, root: str) -> VertexBackend:
    return VertexBackend(
        project="acme-ml",
        region="europe-west4",
        template_uri=templates,
        templates=MemoryTemplates(
            {templates.format(spec="churn", git_sha=SHA, spec_version="v"): compiled()}
        ),
        pipeline_root=root,
        service_account=account,
        api_endpoint=vertex.endpoint,
        first_delay=0.01,
    )


def _request(job_id: str) -> RunRequest:
    return RunRequest(
        job_id=job_id,
        spec="churn",
        spec_version="v",
        trigger="data_arrival",
        git_sha=SHA,
        baseline=Baseline(),
    )


@pytest.mark.parametrize("who", ["candidate", "production"])
def test_on_vertex_a_candidate_labelled_data_arrival_opens_no_promotion(
    who: str, vertex_fake: FakeVertex, faulty_github: FaultyGitHub
) -> None:
    """The candidate identity creates a job with production's labels (it can: labels are the
    creator's); the fake Vertex reports who ran it and where, as the real API does
    (PipelineJob.serviceAccount, templateUri, runtimeConfig.gcsOutputDirectory)."""
    if who == "candidate":
        backend = _backend(
            vertex_fake, CANDIDATE_SA, CANDIDATE_TEMPLATES, f"{PIPELINES}/candidates"
        )
    else:
        backend = _backend(vertex_fake, PRODUCTION_SA, TEMPLATES, PIPELINES)
    job_id = f"churn-data-{who}"
    assert backend.submit(_request(job_id))
    blobs = MemoryBlobs()
    handler, publisher, notices = _handler(faulty_github, blobs)
    index = load_index(SPECS)
    log = MemoryLog()
    service = Service(
        index=lambda: index,
        store=MemoryStore(),
        backend=_backend(vertex_fake, PRODUCTION_SA, TEMPLATES, PIPELINES),
        sink=lambda: handler,
        log=log,
        runs_root=PIPELINES,
        production=PRODUCTION,
    )
    (job,) = [j for n, j in vertex_fake.jobs.items() if n.endswith(job_id)]
    root = job["runtimeConfig"]["gcsOutputDirectory"]
    _write(blobs, root, job_id, load("churn_pass"))
    vertex_fake.set_state(job_id, "PIPELINE_STATE_SUCCEEDED")
    entry = state_change_entry(
        project="acme-ml",
        location="europe-west4",
        job_id=job_id,
        state="PIPELINE_STATE_SUCCEEDED",
        labels=job["labels"],
        pipeline_root=root,
        time=datetime(2026, 3, 2, 12, tzinfo=timezone.utc),
    )
    (decision,) = service.handle("run_complete", pubsub_body(entry, "done-1", {}))
    assert decision.decision == "completed"
    if who == "candidate":
        assert "a candidate run, not production" in decision.reason
        assert CANDIDATE_SA in decision.reason
        assert faulty_github.open_pulls() == []
        assert notices.resolved == []
    else:
        (pr,) = faulty_github.open_pulls()
        assert faulty_github.pull(pr)["title"] == f"Promote churn to {job_id}"
        assert notices.resolved == [("churn", job_id)]
    assert publisher.sent == []  # churn_pass has no anomalies


def test_a_promotion_names_only_a_model_under_its_own_specs_serving_root(
    faulty_github: FaultyGitHub, tmp_path: Path
) -> None:
    """One serving root holds every spec's models: churn's run may not propose the model
    house-prices serves."""
    from retrain.errors import SummaryError

    blobs = MemoryBlobs()
    publisher, notices = Publisher(), Notices()
    host = GitHubCodeHost(build_client(settings_for(faulty_github)), "acme/models")
    handler = CompletionHandler(
        host=host, blobs=blobs, notices=notices, serving_root="gs://acme-ml/serving"
    )
    summary = load("churn_pass")
    served = "gs://acme-ml/serving/house-prices/1700000000"
    candidate = summary.candidate.model_copy(update={"pushed_uri": served})
    root = f"{PIPELINES}/churn"
    _write(blobs, root, "churn-data-7", summary.model_copy(update={"candidate": candidate}))
    outcome = RunOutcome(
        job_id="churn-data-7",
        spec="churn",
        state="succeeded",
        trigger="data_arrival",
        pipeline_root=root,
        production=True,
    )
    with pytest.raises(SummaryError, match="not under the serving root of churn"):
        handler.process(outcome)
    assert faulty_github.open_pulls() == []
    del publisher
