"""The cloud path rehearsed on this machine, every boundary crossed by the real client library:

    compiled template --google-cloud-storage--> GCS emulator (and a Template Registry stand-in)
    BigQuery v2 audit entry --Pub/Sub emulator push--> on_data_arrival (functions-framework,
        RETRAIN_BACKEND=vertex) --aiplatform_v1 REST--> contract-strict fake Vertex: accepted
    the job ends: the fake's pipeline_job_events entry --Pub/Sub emulator--> on_run_complete
        --google-cloud-storage--> the run's summary; history written --PyGithub--> fake GitHub

The template is the checked-in TFX 1.16 compile (tests/pipelines/test_compile.py holds it to
a fresh `retrain compile`), published as a release publishes it: the bare pipeline spec.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest

from retrain.events.bigquery import table_data_change_entry
from retrain.google.pubsub import PubSubPublisher
from retrain.google.template_registry import Templates
from retrain.localstack.fake_registry import FakeRegistry
from retrain.localstack.fake_vertex import FakeVertex
from retrain.localstack.stack import LocalStack, StackConfig
from retrain.processes import procs
from retrain.summary import dump_summary, summary_path
from retrain.topics import TOPICS
from tests.fakes.github_client import TOKEN
from tests.fakes.github_server import FakeGitHub
from tests.fakes.summaries import load
from tests.fakes.templates import compiled
from tests.integration.conftest import SPECS

pytestmark = pytest.mark.emulator

PROJECT = "acme-analytics"
BUCKET = "acme-ml"
SHA = "9b241c8d31745115ca281886361fc70f565f071f"
TEMPLATES = f"gs://{BUCKET}/templates/{{spec}}/{{git_sha}}.json"
REGISTRY = "https://europe-west4-kfp.pkg.dev/acme-analytics/retrain-templates/{spec}/{git_sha}"
T = TypeVar("T")


def eventually(what: str, probe: Callable[[], T | None], timeout: float = 120.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def gcs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """gcp-storage-emulator (PyPI), in memory, with the artefact bucket; a client on it."""
    port = procs.free_port()
    argv = [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1",
            "--port", str(port), "--in-memory"]  # fmt: skip
    proc = procs.start("gcs-emulator", argv, port, tmp_path / "gcs.log")
    try:
        proc.wait_ready(60)
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", proc.url)
        import google.cloud.storage as storage

        client = storage.Client()
        client.create_bucket(BUCKET)
        yield client
    finally:
        proc.stop()


def test_a_table_write_ends_as_a_promotion_pr_on_the_cloud_path(
    gcs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # publish the template, as a release does
    gcs.bucket(BUCKET).blob(f"templates/churn/{SHA}.json").upload_from_string(
        json.dumps(compiled()), content_type="application/json"
    )
    vertex = FakeVertex().start()
    github = FakeGitHub(
        files={f"specs/{p.name}": p.read_text() for p in sorted(SPECS.glob("*.yaml"))}
    ).start()
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    config = StackConfig(
        project=PROJECT,
        specs_dir=SPECS,
        workdir=tmp_path / "work",
        logs_dir=tmp_path / "logs",
        firestore=False,
        functions=("on_data_arrival", "on_run_complete"),
        env={
            "RETRAIN_BACKEND": "vertex",
            "RETRAIN_REGION": "europe-west4",
            "RETRAIN_VERTEX_ENDPOINT": vertex.endpoint,
            "RETRAIN_TEMPLATE_URI": TEMPLATES,
            "RETRAIN_PIPELINE_ROOT": f"gs://{BUCKET}/pipelines",
            "RETRAIN_SERVICE_ACCOUNT": f"retrain-pipelines@{PROJECT}.iam.gserviceaccount.com",
            "RETRAIN_GIT_SHA": SHA,
            "RETRAIN_REPO_ROOT": str(SPECS.parent),  # the specs are at specs/ in the repository
            "RETRAIN_HISTORY_URI": f"gs://{BUCKET}/history",
            # where the Pusher of the summary fixture put the candidate (churn_pass.json)
            "RETRAIN_SERVING_ROOT": "gs://acme-retrain/serving",
            "RETRAIN_CODEHOST": "github",
            "RETRAIN_GITHUB_REPO": "acme/models",
            "RETRAIN_GITHUB_API_URL": github.base_url,
            "RETRAIN_GITHUB_TOKEN": TOKEN,
        },
    )
    try:
        with LocalStack(config) as stack:
            publisher = PubSubPublisher(PROJECT)
            when = datetime(2026, 3, 2, 10, 15, tzinfo=timezone.utc)
            entry = table_data_change_entry(f"{PROJECT}.crm.customers", 612, "bqjob_load_1", when)
            publisher.publish(TOPICS["on_data_arrival"], entry, {})

            (name,) = eventually("the PipelineJob", lambda: list(vertex.jobs))
            job = vertex.jobs[name]
            job_id = name.rsplit("/", 1)[-1]
            assert job["pipelineSpec"] == compiled() and "templateUri" not in job
            assert job["runtimeConfig"]["parameters"]["trigger"] == {"stringValue": "data_arrival"}

            # the pipeline writes its summary under the root, then the job ends
            root = job["runtimeConfig"]["gcsOutputDirectory"]
            summary = load("churn_pass")
            run = summary.run.model_copy(update={"run_id": job_id, "pipeline_root": root})
            uri = summary_path(root, job_id).removeprefix(f"gs://{BUCKET}/")
            gcs.bucket(BUCKET).blob(uri).upload_from_string(
                dump_summary(summary.model_copy(update={"run": run}))
            )
            finished = vertex.finish(job_id, "PIPELINE_STATE_SUCCEEDED")
            publisher.publish(TOPICS["on_run_complete"], finished, {})

            try:
                (pr,) = eventually("the promotion PR", github.open_pulls)
            except AssertionError as exc:  # say why: the function's own log
                raise AssertionError(stack.procs["on_run_complete"].log.read_text()) from exc
            comments = eventually("its comment", lambda: github.comments_on(pr))
            assert job_id in comments[0]["body"]
            history = gcs.bucket(BUCKET).blob("history/churn.json").download_as_bytes()
            assert job_id in history.decode()
            logs = "".join(p.log.read_text() for p in stack.procs.values() if p.log.exists())
            assert "rejected" not in logs
    finally:
        github.stop()
        vertex.stop()


def test_a_registry_template_is_read_over_https_semantics_from_the_stand_in() -> None:
    registry = FakeRegistry().start()
    try:
        uri = REGISTRY.format(spec="churn", git_sha=SHA)
        registry.publish(uri, compiled())
        templates = Templates(PROJECT, registry_endpoint=registry.endpoint)
        assert json.loads(templates.read(uri)) == compiled()
        assert registry.reads == ["/acme-analytics/retrain-templates/churn/" + SHA]
        with pytest.raises(Exception, match="registry answered 404"):
            templates.read(REGISTRY.format(spec="house-prices", git_sha=SHA))
    finally:
        registry.stop()
