"""Plans carried out end to end: candidate runs through the real clients, and the `retrain deploy`
commands themselves applying their plans to the GCS emulator and the Model Registry fake."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from retrain.baseline import no_baseline
from retrain.blobs import ObjectStore
from retrain.delivery.apply import Ports, apply
from retrain.delivery.candidate import candidate_plan
from retrain.delivery.plan import CheckImage, Submit, Upload
from retrain.delivery.release import plan_release
from retrain.google.vertex import VertexBackend
from retrain.localstack.fake_vertex import FakeVertex
from retrain.summary import summary_path
from tests.fakes.model_registry import FakeModelRegistry
from tests.fakes.runner import RecordingRunner

from .conftest import BUCKET
from .helpers import SHA, config, retrain
from .test_promotions import CHURN, _git, _summary
from .test_release import DIGEST, SPECS, _compiled, _released

# A PR's image lives in the candidate repository, never production's.
CANDIDATE_IMAGE = f"{config().candidate_docker_repo}/pipelines@{DIGEST}"


def test_a_candidate_plan_checks_uploads_then_submits(
    tmp_path: Path, gcs: Any, storage: ObjectStore, vertex_fake: FakeVertex
) -> None:
    specs = [s for s, _ in SPECS]
    plan = candidate_plan(
        specs,
        _compiled(tmp_path, CANDIDATE_IMAGE),
        config(),
        pr=12,
        baselines=no_baseline,
        snapshot="2026-11-20T05:00:00Z",
    )
    assert [type(a) for a in plan.actions] == [CheckImage, Upload, Upload, Submit, Submit]
    backend = VertexBackend(
        project="acme-prod",
        region="us-central1",
        template_uri=f"{config().candidates_root}/{{spec}}/{{git_sha}}.json",
        pipeline_root=config().pipeline_root,
        service_account=config().pipelines_sa,
        api_endpoint=vertex_fake.endpoint,
    )
    runner = RecordingRunner(answer=lambda argv: "sha256:abc")
    out = io.StringIO()
    apply(plan, Ports(runner, storage, backend=backend), out)
    apply(plan, Ports(runner, storage, backend=backend), out)  # the same commit pushed again
    names = sorted(b.name for b in gcs.list_blobs(BUCKET))
    assert names == [f"candidates/churn/{SHA}.json", f"candidates/house-prices/{SHA}.json"]
    assert len(vertex_fake.jobs) == 2
    assert out.getvalue().count("already submitted: ") == 2
    job = next(iter(vertex_fake.jobs.values()))
    # a gs:// template is read from the bucket and sent inline: Vertex takes templateUri only
    # from a Template Registry
    assert "templateUri" not in job and job["pipelineSpec"]["schemaVersion"] == "2.0.0"
    assert job["runtimeConfig"]["parameters"]["pr_number"] == {"stringValue": "12"}
    assert job["labels"]["retrain-pr"] == "12"


def test_deploy_templates_applies_its_plan_to_cloud_storage(
    tmp_path: Path, gcs: Any, gcs_emulator: str
) -> None:
    """Everything carries over (no image to check), so the real command can run offline."""
    previous = _released("code")
    plan = plan_release(SPECS, "code", config(), previous)
    plan = plan.model_copy(update={"specs": [s.model_copy(update={"action": "carry"})
                                             for s in plan.specs]})  # fmt: skip
    plan.save(tmp_path / "plan.json")
    for spec in previous.specs.values():
        gcs.bucket(BUCKET).blob(spec.template_uri.split("/", 3)[3]).upload_from_string("{}")
    env = {"RETRAIN_PROJECT": "acme-prod", "RETRAIN_GIT_SHA": SHA,
           "STORAGE_EMULATOR_HOST": gcs_emulator}  # fmt: skip
    args = ["deploy", "templates", "--plan", str(tmp_path / "plan.json"),
            "--compiled", str(tmp_path / "out")]  # fmt: skip
    done = retrain(*args, env=env)
    assert done.returncode == 0, done.stderr
    assert f"+ copy: {previous.specs['churn'].template_uri}" in done.stdout
    assert "2 template(s) published" in done.stdout
    names = {b.name for b in gcs.list_blobs(BUCKET)}
    assert {f"templates/churn/{SHA}.json", f"releases/{SHA}.json", "releases/latest.json"} <= names
    again = retrain(*args, env=env)  # a rerun of the build keeps what it published
    assert again.returncode == 0, again.stderr
    assert f"templates/churn/{SHA}.json exists: kept" in again.stdout


@pytest.fixture
def promoted_repo(tmp_path: Path) -> tuple[Path, str]:
    """A checkout whose last commit sets churn's promotion.version."""
    for folder in ("specs", "pipelines"):
        (tmp_path / folder).mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "specs" / "churn.yml").write_text(CHURN)  # .yml is a spec file too
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")
    base = _git(tmp_path, "rev-parse", "HEAD")
    edited = CHURN.replace("alias: champion", "alias: champion\n  version: churn-data-1")
    (tmp_path / "specs" / "churn.yml").write_text(edited)
    _git(tmp_path, "commit", "-q", "-am", "promote")
    return tmp_path, base


def test_deploy_promotions_uploads_through_the_model_service(
    promoted_repo: tuple[Path, str],
    gcs: Any,
    gcs_emulator: str,
    registry_fake: FakeModelRegistry,
) -> None:
    repo, base = promoted_repo
    summary = summary_path("pipelines/churn", "churn-data-1")
    gcs.bucket(BUCKET).blob(summary).upload_from_string(_summary(True, "gs://b/serving/1"))
    env = {"STORAGE_EMULATOR_HOST": gcs_emulator, "RETRAIN_VERTEX_ENDPOINT": registry_fake.endpoint}
    args = ["deploy", "promotions", "--base", base, "--project", "acme-prod"]
    dry = retrain(*args, "--dry-run", cwd=repo, env=env)
    assert dry.stdout.splitlines() == [
        "would promote churn: churn alias champion -> run churn-data-1"
    ]
    assert registry_fake.requests == []  # a dry run reads nothing
    done = retrain(*args, cwd=repo, env=env)
    assert done.returncode == 0, done.stderr
    assert "churn: uploaded gs://b/serving/1 as churn with alias champion" in done.stdout
    model = "projects/acme-prod/locations/us-central1/models/churn"
    assert registry_fake.aliases(model) == {"1": ["champion", "default"]}
    again = retrain(*args, cwd=repo, env=env)  # merged twice (a rerun): the alias stays put
    assert "churn: alias champion -> churn@1 (churn-data-1)" in again.stdout
    assert len(registry_fake.models[model]) == 1


def test_changed_specs_lists_yml_files(promoted_repo: tuple[Path, str]) -> None:
    repo, base = promoted_repo
    done = retrain("changed-specs", "--base", base, "--format", "json", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["specs/churn.yml"]
