"""The cloud readers against wire-level fakes: GitHub (fake server, real PyGithub), Vertex
(fake REST server, real aiplatform_v1 client), Cloud Logging (gcloud's JSON output), and the
Firestore emulator for the state store's read."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence

import pytest

from retrain.codehost.github import GitHubCodeHost, build_client
from retrain.codehost.port import PromotionRequest
from retrain.completion.notices import Notices
from retrain.errors import BackendError
from retrain.google.cloud_logging import CloudLogging
from retrain.google.firestore import FirestoreStore
from retrain.google.vertex import VertexBackend
from retrain.inventory import status
from retrain.inventory.cloud import CloudLoggingDecisions, GitHubPulls, decisions_query
from retrain.inventory.gather import gather
from retrain.localstack.discovery import RECORD, Claim, StackRecord, process_start
from retrain.localstack.fake_vertex import FakeVertex
from retrain.report.notice import Incident
from retrain.routing.decision import Decision, log_record
from retrain.runs import RunRequest
from retrain.settings import Settings
from retrain.state.base import EventRecord, SpecState, Transition
from retrain.wiring import build_inventory
from tests.fakes.github_client import settings_for
from tests.fakes.github_server import FakeGitHub
from tests.fakes.templates import MemoryTemplates, compiled
from tests.inventory.world import World


def test_github_pulls_reads_the_services_prs_and_who_merged_them(github_fake: FakeGitHub) -> None:
    client = build_client(settings_for(github_fake))
    host = GitHubCodeHost(client, "acme/models")
    promoted = host.open_or_update_promotion(
        PromotionRequest(
            spec="churn",
            spec_path="specs/churn.yaml",
            version="churn-job-1",
            title="Promote churn to churn-job-1",
            body="b",
        )
    )
    assert promoted is not None
    github_fake.merge_pr(promoted.number, by="ada")
    human = github_fake.open_pr(title="Unrelated docs change", head="docs")
    pulls = GitHubPulls(client, "acme/models").pulls()
    assert [p.number for p in pulls] == [promoted.number]  # not the unrelated one
    assert human != promoted.number
    pull = pulls[0]
    assert (pull.state, pull.kind, pull.merged_by) == ("merged", "promotion", "ada")
    assert pull.merged_at.startswith("2026-11-26T12:00:00")
    assert pull.url.endswith(f"/pull/{promoted.number}")


class GcloudOutput:
    """Answers `gcloud logging read` as gcloud does with --format=json: a JSON list of
    LogEntry objects (fields per the Cloud Logging LogEntry reference: insertId, timestamp,
    jsonPayload, labels). Refuses any other command, and a filter it was not told about."""

    def __init__(self, entries: object) -> None:
        self.entries = entries
        self.calls: list[list[str]] = []

    def run(self, argv: Sequence[str]) -> str:
        assert list(argv[:4]) == ["gcloud", "logging", "read", decisions_query()], argv
        assert "--format=json" in argv and any(a.startswith("--project=") for a in argv)
        self.calls.append(list(argv))
        return json.dumps(self.entries)


def _entry(decision: Decision, insert_id: str, timestamp: str) -> dict[str, object]:
    record = log_record(decision)
    return {
        "insertId": insert_id,
        "timestamp": timestamp,
        "labels": record.pop("logging.googleapis.com/labels"),
        "jsonPayload": record,
    }


def test_cloud_logging_decisions_oldest_first_with_their_time() -> None:
    later = Decision(decision="debounced", event="data_arrival", event_id="2", reason="held",
                     spec="churn")  # fmt: skip
    earlier = Decision(decision="run", event="data_arrival", event_id="1", reason="go",
                       spec="churn", job_id="churn-job-1")  # fmt: skip
    runner = GcloudOutput(
        [_entry(later, "b", "2026-11-21T10:00:00Z"), _entry(earlier, "a", "2026-11-21T09:00:00Z")]
    )
    found = CloudLoggingDecisions(CloudLogging(runner, "acme-ml")).decisions()
    assert [(d.record, d.time) for d in found] == [
        (earlier, "2026-11-21T09:00:00Z"),
        (later, "2026-11-21T10:00:00Z"),
    ]
    assert found[0].source == "Cloud Logging entry a"
    assert "--project=acme-ml" in runner.calls[0]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"insertId": "x", "textPayload": "hello"}], "entry #0: no jsonPayload object"),
        ([{"insertId": "y", "jsonPayload": {"decision": "maybe", "event": "drift"}}], "entry y"),
        ({"not": "a list"}, "expected a JSON list"),
    ],
)
def test_cloud_logging_refuses_what_is_not_a_decision(entries: object, message: str) -> None:
    runner = GcloudOutput(entries)
    with pytest.raises(BackendError, match=message):
        CloudLoggingDecisions(CloudLogging(runner, "acme-ml")).decisions()


def test_vertex_jobs_lists_every_state_of_one_spec(vertex_fake: FakeVertex) -> None:
    template = "gs://b/templates/{spec}.json"  # read from memory: the compiled fixture
    backend = VertexBackend(
        project="acme-ml",
        region="us-central1",
        template_uri=template,
        pipeline_root="gs://b/root",
        api_endpoint=vertex_fake.endpoint,
        templates=MemoryTemplates(
            {template.format(spec=s): compiled() for s in ("churn", "house-prices")}
        ),
    )
    for job_id, spec in (("churn-a", "churn"), ("churn-b", "churn"), ("hp-a", "house-prices")):
        request = RunRequest(job_id=job_id, spec=spec, spec_version="v1", trigger="manual")
        assert backend.submit(request)
    vertex_fake.set_state("churn-a", "PIPELINE_STATE_SUCCEEDED")
    jobs = backend.jobs("churn")
    assert sorted((j.job_id, j.state) for j in jobs) == [
        ("churn-a", "PIPELINE_STATE_SUCCEEDED"),
        ("churn-b", "PIPELINE_STATE_RUNNING"),
    ]
    assert all(j.pipeline_root == "gs://b/root/churn" for j in jobs)
    assert jobs[0].labels["retrain-spec"] == "churn"


@pytest.mark.emulator
def test_firestore_read_returns_what_transact_wrote_and_status_shows_it(
    firestore_emulator: str, monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator)
    prefix = f"inv{uuid.uuid4().hex[:6]}"
    store = FirestoreStore(project="retrain-inventory", prefix=prefix)
    assert store.read("churn") is None
    state = SpecState(pending_rows=120, last_window=490000, last_job_id="churn-job-1")
    store.transact(
        "churn",
        "evt-1",
        lambda _s, _r: Transition(record=EventRecord(decision="debounced"), state=state),
    )
    assert store.read("churn") == state

    settings = Settings.from_env(
        {
            "RETRAIN_PROJECT": "retrain-inventory",
            "RETRAIN_STATE_PREFIX": prefix,
            "FIRESTORE_EMULATOR_HOST": firestore_emulator,
        }
    )
    found = gather(build_inventory(settings, cloud=False, workdir=world.root), "churn")
    assert found.models[0].pending == state
    assert "pending     120 of 500 rows; debounce 1h, last window 2025-11-24T16:00:00Z/" in (
        status.render(found)
    )


@pytest.mark.emulator
def test_status_finds_a_running_stacks_firestore_through_its_record_without_exports(
    firestore_emulator: str, monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    """`retrain up` records its emulators in work/stack.json; status reads the counters there
    with nothing exported (the record's pid is this process, which holds the lock, so it
    counts as running)."""
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    prefix = f"inv{uuid.uuid4().hex[:6]}"
    store = FirestoreStore(project="retrain-stack", prefix=prefix, emulator=firestore_emulator)
    state = SpecState(pending_rows=80, last_window=490000, last_job_id="churn-job-2")
    store.transact(
        "churn",
        "evt-2",
        lambda _s, _r: Transition(record=EventRecord(decision="debounced"), state=state),
    )
    settings = Settings.from_env({"RETRAIN_STATE_PREFIX": prefix})
    before = gather(build_inventory(settings, cloud=False, workdir=world.root), "churn")
    assert before.models[0].pending is None  # no stack recorded: nothing to read

    pid = os.getpid()
    record = StackRecord(
        pid=pid,
        started=process_start(pid) or 0,
        project="retrain-stack",
        env={"FIRESTORE_EMULATOR_HOST": firestore_emulator},
        endpoints={},
        groups=[],
        logs=str(world.root / "logs"),
    )
    # As `retrain up` does: hold the directory's lock, then publish (a record planted without
    # the lock is not trusted; issue 25). The claim removes the record on the way out.
    with Claim(world.root) as claim:
        claim.publish(record)
        found = gather(build_inventory(settings, cloud=False, workdir=world.root), "churn")
    assert not (world.root / RECORD).exists()
    assert found.models[0].pending == state
    assert "pending     80 of 500 rows" in status.render(found)


def test_github_notices_are_the_open_labelled_issues_with_a_notice_marker(
    github_fake: FakeGitHub,
) -> None:
    client = build_client(settings_for(github_fake))
    notices = Notices(GitHubCodeHost(client, "acme/models"), lambda _: "@acme/ml")
    notices.report(Incident(spec="churn", kind="run_failed", summary="Trainer failed"))
    notices.report(Incident(spec="house-prices", kind="stale", summary="no success in 30d"))
    notices.resolve("house-prices", "house-prices-job-9")  # closed: not listed
    github_fake.open_pr(title="retrain: churn: docs", head="docs")  # a PR is not a notice
    found = GitHubPulls(client, "acme/models").notices()
    assert [(n.spec, n.title) for n in found] == [("churn", "retrain: churn: retraining failed")]
    assert found[0].url.endswith(f"/issues/{found[0].number}")
