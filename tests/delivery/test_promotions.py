"""Promotions and changed specs, over a real git repository made in a temporary directory."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from retrain.blobs import ObjectStore
from retrain.delivery.apply import Ports, apply
from retrain.delivery.gitrev import Git, changed_specs
from retrain.delivery.plan import Promote
from retrain.delivery.promotions import (
    PromotionChange,
    promote,
    promotion_changes,
    promotion_plan,
)
from retrain.errors import BackendError, TransientError
from retrain.google.clients import Endpoint
from retrain.google.model_registry import VertexModelRegistry
from retrain.spec.model import Promotion
from retrain.summary import summary_path
from tests.fakes.blobs import MemoryBlobs
from tests.fakes.model_registry import FakeModelRegistry
from tests.fakes.runner import RecordingRunner

from .conftest import BUCKET
from .helpers import REPO, config, retrain

CHURN = (REPO / "specs" / "churn.yaml").read_text()


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "pipelines" / "factory.py").write_text("# v1\n")
    (tmp_path / "specs" / "churn.yaml").write_text(CHURN)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def _commit(repo: Path, path: str, text: str) -> str:
    (repo / path).write_text(text)
    _git(repo, "commit", "-q", "-am", f"edit {path}")
    return _git(repo, "rev-parse", "HEAD")


def test_a_version_set_by_a_promotion_pr_is_a_change(repo: Path) -> None:
    base = _git(repo, "rev-parse", "HEAD")
    edited = CHURN.replace("alias: champion", "alias: champion\n  version: churn-data-0a1b2c")
    assert edited != CHURN
    head = _commit(repo, "specs/churn.yaml", edited)
    changes = promotion_changes(Git(repo), base, head, ["specs/churn.yaml"])
    assert [(c.spec, c.after.version) for c in changes] == [("churn", "churn-data-0a1b2c")]
    assert changes[0].before is not None and changes[0].before.version is None
    assert promotion_changes(Git(repo), head, head, ["specs/churn.yaml"]) == []
    # an edit elsewhere in the spec promotes nothing
    other = _commit(
        repo, "specs/churn.yaml", edited.replace("train_steps: 300", "train_steps: 301")
    )
    assert promotion_changes(Git(repo), head, other, ["specs/churn.yaml"]) == []


def test_changed_specs_between_revisions(repo: Path) -> None:
    base = _git(repo, "rev-parse", "HEAD")
    _commit(repo, "specs/churn.yaml", CHURN.replace("train_steps: 300", "train_steps: 301"))
    files = Git(repo).changed_files(base, "HEAD")
    assert changed_specs(files, "specs", ["specs/churn.yaml", "specs/other.yaml"]) == (
        ["specs/churn.yaml"], "spec files changed",
    )  # fmt: skip
    _commit(repo, "pipelines/factory.py", "# v2\n")
    files = Git(repo).changed_files(base, "HEAD")
    specs, why = changed_specs(files, "specs", ["specs/churn.yaml", "specs/other.yaml"])
    assert specs == ["specs/churn.yaml", "specs/other.yaml"] and "pipelines/factory.py" in why


def test_changed_specs_cli_writes_github_outputs(repo: Path) -> None:
    base = _git(repo, "rev-parse", "HEAD")
    _commit(repo, "specs/churn.yaml", CHURN.replace("train_steps: 300", "train_steps: 302"))
    done = retrain("changed-specs", "--base", base, "--format", "github-output", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ['specs=["specs/churn.yaml"]', "any=true"]
    none = retrain("changed-specs", "--base", "HEAD", cwd=repo)
    assert none.returncode == 0 and none.stdout == ""


class Registry:
    def __init__(self, existing: dict[str, str]) -> None:
        self.existing = existing
        self.calls: list[tuple[str, ...]] = []

    def find_version(self, model: str, job_id: str) -> str | None:
        return self.existing.get(job_id)

    def upload(self, model: str, job_id: str, spec: str, artifact_uri: str, alias: str) -> None:
        self.calls.append(("upload", model, job_id, artifact_uri, alias))

    def set_alias(self, model: str, version: str, alias: str) -> None:
        self.calls.append(("alias", model, version, alias))


def _summary(blessed: bool, pushed: str) -> bytes:
    fixture = REPO / "tests" / "compare" / "fixtures" / "churn_pass.json"
    raw = json.loads(fixture.read_text())
    raw["blessed"] = blessed
    raw["candidate"]["pushed_uri"] = pushed
    return json.dumps(raw).encode()


CHANGE = Promote(
    "churn", Promotion(registry_model="churn", alias="champion", version="churn-data-1"), config()
)
WHERE = summary_path("gs://acme-prod-retrain/pipelines/churn", "churn-data-1")


def test_promote_uploads_the_pushed_model_of_a_blessed_run() -> None:
    registry = Registry({})
    blobs = MemoryBlobs({WHERE: _summary(True, "gs://b/serving/churn/1700000000")})
    promote(CHANGE, registry, blobs)
    assert registry.calls == [
        ("upload", "churn", "churn-data-1", "gs://b/serving/churn/1700000000", "champion")
    ]


def test_promote_moves_the_alias_when_the_version_is_already_registered() -> None:
    registry = Registry({"churn-data-1": "7"})
    promote(CHANGE, registry, MemoryBlobs({}))
    assert registry.calls == [("alias", "churn", "7", "champion")]


def test_promote_refuses_a_run_that_was_not_blessed() -> None:
    with pytest.raises(BackendError, match="not blessed"):
        promote(CHANGE, Registry({}), MemoryBlobs({WHERE: _summary(False, "gs://b/x")}))


MODEL = "projects/acme-prod/locations/us-central1/models/churn"


def _registry(fake: FakeModelRegistry) -> VertexModelRegistry:
    c = config()
    endpoint = Endpoint.regional("aiplatform", "us-central1", fake.endpoint)
    return VertexModelRegistry(c.project, c.region, c.serving_image, endpoint)


def test_vertex_registry_uploads_with_the_alias_and_job_label(
    registry_fake: FakeModelRegistry,
) -> None:
    registry = _registry(registry_fake)
    assert registry.find_version("churn", "churn-data-1") is None  # no such model yet
    registry.upload("churn", "churn-data-0", "churn", "gs://b/m0", "champion")
    registry.upload("churn", "churn-data-1", "churn", "gs://b/m", "champion")
    first, upload = [body for method, path, body in _posts(registry_fake) if "upload" in path]
    assert first["modelId"] == "churn" and "parentModel" not in first
    assert upload["parentModel"] == MODEL  # a new version of the existing model
    assert upload["model"]["versionAliases"] == ["champion"]
    assert upload["model"]["labels"] == {"retrain-spec": "churn", "retrain-job": "churn-data-1"}
    assert upload["model"]["containerSpec"]["imageUri"] == config().serving_image
    assert registry_fake.aliases(MODEL) == {"1": ["default"], "2": ["champion"]}
    assert registry.find_version("churn", "churn-data-1") == "2"
    assert registry.find_version("churn", "churn-data-9") is None


def test_vertex_registry_moves_an_alias_onto_an_existing_version(
    registry_fake: FakeModelRegistry,
) -> None:
    registry = _registry(registry_fake)
    registry.upload("churn", "churn-data-1", "churn", "gs://b/1", "champion")
    registry.upload("churn", "churn-data-2", "churn", "gs://b/2", "champion")
    registry.set_alias("churn", "1", "champion")
    assert registry_fake.aliases(MODEL) == {"1": ["default", "champion"], "2": []}


def test_vertex_registry_errors_name_what_failed(registry_fake: FakeModelRegistry) -> None:
    registry = _registry(registry_fake)
    with pytest.raises(BackendError, match=r"alias champion on .*churn@1"):
        registry.set_alias("churn", "1", "champion")  # no such model
    with pytest.raises(BackendError, match="uploading gs://b/m as churn"):
        registry.upload("churn", "churn-data-1", "churn", "gs://b/m", "Not_An_Alias")
    registry_fake.fail_next(503, method="GET")
    with pytest.raises(TransientError, match="reading model churn"):
        registry.find_version("churn", "churn-data-1")


def test_promoting_through_the_real_clients(
    registry_fake: FakeModelRegistry, gcs: Any, storage: ObjectStore
) -> None:
    """The plan as `retrain deploy promotions` carries it out: summary from GCS, then upload."""
    where = WHERE.removeprefix("gs://acme-prod-retrain/")
    gcs.bucket(BUCKET).blob(where).upload_from_string(_summary(True, "gs://b/serving/churn/1"))
    plan = promotion_plan([PromotionChange("churn", None, CHANGE.promotion)], config())
    assert plan.lines() == ["would promote churn: churn alias champion -> run churn-data-1"]
    out = io.StringIO()
    apply(plan, Ports(RecordingRunner(), registry=_registry(registry_fake), blobs=storage), out)
    assert "uploaded gs://b/serving/churn/1 as churn with alias champion" in out.getvalue()
    assert registry_fake.aliases(MODEL) == {"1": ["champion", "default"]}


def _posts(fake: FakeModelRegistry) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.body) for r in fake.requests if r.method == "POST"]
