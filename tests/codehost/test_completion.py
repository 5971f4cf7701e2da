"""From a finished run to GitHub, end to end: real PyGithub against the fake GitHub."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.api_core import exceptions as api

from retrain.blobs import Blobs
from retrain.codehost import LocalCodeHost
from retrain.codehost.github import GitHubCodeHost, build_client
from retrain.completion import CompletionHandler
from retrain.errors import BackendError, SummaryError, TransientError
from retrain.google.clients import storage_client
from retrain.google.storage import GcsStorage
from retrain.report import comment_marker
from retrain.runs import RunOutcome
from retrain.settings import Settings
from retrain.summary import Anomaly, EvaluationSummary, SliceMetric, dump_summary, summary_path
from retrain.wiring import build_completion
from tests.fakes.github_client import REPO_ROOT, settings_for
from tests.fakes.github_server import FakeGitHub
from tests.fakes.history import InMemoryHistory
from tests.fakes.summaries import load


def _write(root: Path, summary: EvaluationSummary, job_id: str, auc: float) -> None:
    """A summary for `job_id` with the overall auc replaced, where the handler will look."""
    metrics = [
        SliceMetric(**{**m.model_dump(), "candidate": auc})
        if (m.metric, m.slice) == ("auc", {})
        else m
        for m in summary.metrics
    ]
    run = summary.run.model_copy(update={"run_id": job_id, "pipeline_root": str(root)})
    path = Path(summary_path(str(root), job_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_summary(summary.model_copy(update={"run": run, "metrics": metrics})))


def _outcome(root: Path, job_id: str, **changes: Any) -> RunOutcome:
    values: dict[str, Any] = {
        "job_id": job_id,
        "spec": "churn",
        "state": "succeeded",
        "trigger": "pull_request",
        "git_sha": "5d1e0a7c2b9f8e6d4c3b2a1908f7e6d5c4b3a291",
        "pipeline_root": str(root),
        "console_url": "https://console.cloud.google.com/vertex-ai/pipelines/runs/x",
        "production": True,  # as run_complete proves it; PR runs act on nothing all the same
        **changes,
    }
    return RunOutcome(**values)


@pytest.fixture
def handler(github_fake: FakeGitHub, tmp_path: Path) -> CompletionHandler:
    host = GitHubCodeHost(build_client(settings_for(github_fake)), "acme/models")
    return CompletionHandler(host=host)


def test_three_runs_on_a_pr_leave_one_comment_with_the_latest_numbers(
    github_fake: FakeGitHub, handler: CompletionHandler, tmp_path: Path
) -> None:
    pr = github_fake.open_pr()
    for i, auc in enumerate([0.8350, 0.8390, 0.8412]):
        _write(tmp_path, load("churn_pass"), f"churn-pr-run-{i}", auc)
        handler.handle(_outcome(tmp_path, f"churn-pr-run-{i}", pr_number=pr))
    (comment,) = github_fake.comments_on(pr)
    body = comment["body"]
    assert body.startswith(comment_marker("churn", pr))
    assert "`auc` 0.8412" in body and "churn-pr-run-2" in body and "churn-pr-run-1" not in body
    assert "line [0.8350, 0.8390, 0.8412]" in body  # history kept beside the pipeline root
    assert (tmp_path / "history" / "churn.json").exists()


def test_a_failed_run_replaces_the_comment_with_its_error(
    github_fake: FakeGitHub, handler: CompletionHandler, tmp_path: Path
) -> None:
    pr = github_fake.open_pr()
    _write(tmp_path, load("churn_pass"), "churn-ok", 0.84)
    handler.handle(_outcome(tmp_path, "churn-ok", pr_number=pr))
    failed = _outcome(
        tmp_path,
        "churn-broken",
        pr_number=pr,
        state="failed",
        failed_task="trainer",
        error="ValueError: shapes differ",
    )
    result = handler.process(failed)
    assert result.action == "commented"
    (comment,) = github_fake.comments_on(pr)
    assert "Run failed in `trainer`" in comment["body"]
    assert "ValueError: shapes differ" in comment["body"]


def test_an_unreadable_summary_is_said_on_the_pr_and_raised(
    github_fake: FakeGitHub, handler: CompletionHandler, tmp_path: Path
) -> None:
    pr = github_fake.open_pr()
    with pytest.raises(SummaryError, match="not found"):
        handler.handle(_outcome(tmp_path, "churn-no-summary", pr_number=pr))
    (comment,) = github_fake.comments_on(pr)
    assert "could not be read" in comment["body"]


def test_a_blessed_data_run_opens_then_updates_the_promotion_pr(
    github_fake: FakeGitHub, handler: CompletionHandler, tmp_path: Path
) -> None:
    _write(tmp_path, load("churn_pass"), "churn-data-1", 0.8412)
    first = handler.process(_outcome(tmp_path, "churn-data-1", trigger="data_arrival"))
    _write(tmp_path, load("churn_pass"), "churn-data-2", 0.8450)
    second = handler.process(_outcome(tmp_path, "churn-data-2", trigger="drift"))
    assert (first.action, second.action) == ("promoted", "promoted")
    assert first.reason == "opened promotion PR" and second.reason == "updated promotion PR"
    assert github_fake.open_pulls() == [first.pr_number]
    pull = github_fake.pull(first.pr_number or 0)
    assert pull["title"] == "Promote churn to churn-data-2"
    spec = github_fake.file_on("retrain/promote-churn", "specs/churn.yaml")
    assert spec is not None and yaml.safe_load(spec)["promotion"]["version"] == "churn-data-2"
    (comment,) = github_fake.comments_on(first.pr_number or 0)
    assert "`auc` 0.8450" in comment["body"]


def test_disagreement_is_labelled_on_the_promotion_pr(
    github_fake: FakeGitHub, handler: CompletionHandler, tmp_path: Path
) -> None:
    _write(tmp_path, load("churn_disagree"), "churn-data-3", 0.8150)
    result = handler.process(_outcome(tmp_path, "churn-data-3", trigger="data_arrival"))
    assert result.comparison is not None and not result.comparison.agrees_with_tfx
    assert "retrain: checks disagree" in github_fake.pull(result.pr_number or 0)["labels"]


def test_unblessed_and_manual_runs_are_not_promoted(
    github_fake: FakeGitHub, handler: CompletionHandler, tmp_path: Path
) -> None:
    _write(tmp_path, load("churn_regression"), "churn-data-4", 0.80)
    unblessed = handler.process(_outcome(tmp_path, "churn-data-4", trigger="data_arrival"))
    _write(tmp_path, load("churn_pass"), "churn-manual", 0.84)
    manual = handler.process(_outcome(tmp_path, "churn-manual", trigger="manual"))
    failed = handler.process(_outcome(tmp_path, "x", trigger="data_arrival", state="cancelled"))
    assert [r.action for r in (unblessed, manual, failed)] == ["skipped"] * 3
    assert github_fake.open_pulls() == [] and not github_fake.calls("POST", r"/comments$")


def test_github_outage_is_transient_so_the_event_is_redelivered(
    github_fake: FakeGitHub, tmp_path: Path
) -> None:
    host = GitHubCodeHost(build_client(settings_for(github_fake, retries=0)), "acme/models")
    handler = CompletionHandler(host=host, history=InMemoryHistory())
    pr = github_fake.open_pr()
    _write(tmp_path, load("churn_pass"), "churn-pr-x", 0.84)
    github_fake.fail_next("GET", r"/comments$", 503)
    with pytest.raises(TransientError):
        handler.handle(_outcome(tmp_path, "churn-pr-x", pr_number=pr))
    handler.handle(_outcome(tmp_path, "churn-pr-x", pr_number=pr))  # the redelivery
    assert len(github_fake.comments_on(pr)) == 1


def test_default_sink_posts_locally_without_github(tmp_path: Path) -> None:
    env = {"RETRAIN_WORKDIR": str(tmp_path / "work"), "RETRAIN_REPO_ROOT": str(REPO_ROOT)}
    sink = build_completion(Settings.from_env(env))
    assert isinstance(sink.host, LocalCodeHost)
    sink.host.out = io.StringIO()
    _write(tmp_path, load("churn_pass"), "local-run-1", 0.84)
    sink.handle(_outcome(tmp_path, "local-run-1", pr_number=5))
    _write(tmp_path, load("churn_pass"), "local-run-2", 0.84)
    sink.handle(_outcome(tmp_path, "local-run-2", trigger="data_arrival"))
    assert "== PR #5: 1 comment(s)" in sink.host.out.getvalue()
    assert len(list((tmp_path / "work" / "codehost" / "pr-5" / "comments").glob("*.md"))) == 1
    pull = tmp_path / "work" / "codehost" / "pr-6" / "pull.json"
    assert "Promote churn to local-run-2" in pull.read_text()


def test_default_sink_uses_github_when_a_repository_is_configured(github_fake: FakeGitHub) -> None:
    sink = build_completion(
        Settings.from_env(
            {
                "RETRAIN_GITHUB_REPO": "acme/models",
                "RETRAIN_GITHUB_TOKEN": "t",
                "RETRAIN_GITHUB_API_URL": github_fake.base_url,
            }
        )
    )
    assert isinstance(sink.host, GitHubCodeHost)
    assert github_fake.requests == []  # built lazily: nothing sent yet


class _RefusingBlob:
    """A blob whose download fails as google-cloud-storage would raise it."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def download_as_bytes(self, **_: Any) -> bytes:
        raise self.error


class _RefusingClient:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def bucket(self, name: str) -> _RefusingClient:
        return self

    def blob(self, name: str) -> _RefusingBlob:
        return _RefusingBlob(self.error)


def test_gcs_blobs_read_and_write_on_the_emulator(gcs_emulator: str) -> None:
    client = storage_client("acme-prod", emulator=gcs_emulator)
    client.create_bucket("bucket")
    blobs = Blobs(GcsStorage(lambda: client))
    blobs.write_bytes("gs://bucket/root/history/churn.json", b"{}")
    assert client.bucket("bucket").blob("root/history/churn.json").download_as_bytes() == b"{}"
    assert blobs.read_bytes("gs://bucket/root/history/churn.json") == b"{}"
    with pytest.raises(SummaryError, match="not found"):
        blobs.read_bytes("gs://bucket/x.json")
    with pytest.raises(SummaryError, match="gs://BUCKET/OBJECT"):
        blobs.read_bytes("gs://bucket-only")


def test_gcs_blobs_map_refusals() -> None:
    denied, unavailable = (
        api.Forbidden("no"),  # type: ignore[no-untyped-call]
        api.ServiceUnavailable("later"),  # type: ignore[no-untyped-call]
    )
    with pytest.raises(BackendError, match="access denied"):
        Blobs(GcsStorage(lambda: _RefusingClient(denied))).read_bytes("gs://bucket/x.json")
    with pytest.raises(TransientError):
        Blobs(GcsStorage(lambda: _RefusingClient(unavailable))).read_bytes("gs://bucket/x.json")


class RecordingPublisher:
    """Records what the Pub/Sub publisher port is asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def publish(self, topic: str, payload: dict[str, Any], attributes: dict[str, str]) -> None:
        self.sent.append((topic, payload, attributes))


def test_a_runs_anomalies_become_one_drift_alert_the_policy_decides_and_never_loop(
    github_fake: FakeGitHub, tmp_path: Path
) -> None:
    from retrain.completion.alerts import TopicAlerts
    from retrain.events.drift import decode_drift
    from retrain.events.types import DriftAlert
    from retrain.routing.policy import drift_decision
    from retrain.spec import load_spec

    publisher = RecordingPublisher()
    host = GitHubCodeHost(build_client(settings_for(github_fake)), "acme/models")
    handler = CompletionHandler(host=host, alerts=TopicAlerts(publisher, "retrain-drift-alert"))
    summary = load("churn_nan")  # a new category, drift, and a type change
    _write(tmp_path, summary, "churn-data-9", 0.84)
    outcome = _outcome(tmp_path, "churn-data-9", trigger="data_arrival")
    handler.process(outcome)
    handler.process(outcome)  # the completion event delivered again
    first, again = publisher.sent
    assert first == again  # same alert, same key: the drift route starts no second run
    topic, payload, attributes = first
    assert topic == "retrain-drift-alert"
    assert attributes == {"retrain-spec": "churn", "retrain-run": "churn-data-9"}
    alert = decode_drift(payload)
    assert isinstance(alert, DriftAlert) and alert.key == "tfdv:churn:churn-data-9"
    assert {(f.feature, f.kind) for f in alert.features} == {
        ("contract", "ENUM_TYPE_UNEXPECTED_STRING_VALUES"),
        ("monthly_charges", "COMPARATOR_L_INFTY_HIGH"),
        ("support_calls", "UNEXPECTED_DATA_TYPE"),
    }
    severity = {k: v["severity"] for k, v in payload["anomalies"]["anomalyInfo"].items()}
    assert severity == {
        "contract": "WARNING",
        "monthly_charges": "WARNING",
        "support_calls": "ERROR",
    }
    spec = load_spec(REPO_ROOT / "specs" / "churn.yaml")  # drift action: retrain
    decided = drift_decision(spec, version=spec.fingerprint(), alert=alert, running=[])
    assert decided.decision == "run", decided.reason

    # The run that alert starts finds the same anomalies: it must not raise the alert again.
    _write(tmp_path, summary, "churn-drift-1", 0.84)
    handler.process(_outcome(tmp_path, "churn-drift-1", trigger="drift"))
    assert len(publisher.sent) == 2
    # A clean run publishes nothing.
    _write(tmp_path, load("churn_pass"), "churn-data-10", 0.84)
    handler.process(_outcome(tmp_path, "churn-data-10", trigger="data_arrival"))
    assert len(publisher.sent) == 2


def _with_anomalies(job_id: str, root: Path, *anomalies: tuple[str, str, str]) -> None:
    summary = load("churn_pass").model_copy(
        update={"anomalies": [Anomaly(feature=f, kind=k, description=d) for f, k, d in anomalies]}
    )
    _write(root, summary, job_id, 0.84)


def test_new_categories_and_columns_become_one_schema_pr_per_spec(
    github_fake: FakeGitHub, tmp_path: Path
) -> None:
    host = GitHubCodeHost(build_client(settings_for(github_fake)), "acme/models")
    handler = CompletionHandler(host=host, specs_dir="specs")
    country = "Examples contain values missing from the schema: PT (~4%), ES (<1%). "
    _with_anomalies(
        "churn-data-20",
        tmp_path,
        ("country", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", country),
        ("support_calls", "UNEXPECTED_DATA_TYPE", "Expected data of type: INT but got BYTES"),
    )
    handler.process(_outcome(tmp_path, "churn-data-20", trigger="data_arrival"))
    (number,) = [
        n for n in github_fake.open_pulls() if github_fake.pull(n)["head"] == "retrain/schema-churn"
    ]
    pull = github_fake.pull(number)
    assert pull["title"] == "Schema update for churn: country: a new category"
    assert sorted(pull["labels"]) == ["retrain", "schema"]
    body = str(pull["body"])
    assert "- `support_calls`: **error**, its type changed" in body  # listed, never proposed
    proposed = github_fake.file_on("retrain/schema-churn", "specs/churn.schema.pbtxt") or ""
    assert '  value: "PT"\n  value: "ES"\n}' in proposed

    # A later run with another change updates the same PR; the file starts again from base.
    _with_anomalies(
        "churn-data-21",
        tmp_path,
        ("region", "SCHEMA_NEW_COLUMN", "New column (column in data but not in schema)"),
    )
    handler.process(_outcome(tmp_path, "churn-data-21", trigger="schedule"))
    assert [
        n for n in github_fake.open_pulls() if github_fake.pull(n)["head"] == "retrain/schema-churn"
    ] == [number]
    proposed = github_fake.file_on("retrain/schema-churn", "specs/churn.schema.pbtxt") or ""
    assert '  name: "region"\n  lifecycle_stage: DEPRECATED' in proposed and '"PT"' not in proposed

    # Only errors: nothing to accept, so no schema PR is touched.
    pulls = len(github_fake.state.pulls)
    _with_anomalies("churn-data-22", tmp_path, ("tenure_months", "SCHEMA_MISSING_COLUMN", ""))
    handler.process(_outcome(tmp_path, "churn-data-22", trigger="data_arrival"))
    assert len(github_fake.state.pulls) == pulls
