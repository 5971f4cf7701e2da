"""The merge build rehearsed end to end: every `cloudbuild.yaml` step that runs this project's
code, read from the step list, run in its order, each in the environment its image gives it.

- steps in the Cloud SDK image run `.venv/bin/retrain` (the service environment) in a fresh
  checkout (a git repository of this working tree's tracked files, committed: the build's
  `COMMIT_SHA`), with Cloud Build's `options.env`;
- the step in the pipeline image (`deploy compile`) runs in `.venv-pipelines`, built as the
  image is (tests/delivery/test_image_rehearsal.py says how), with the image's ENV;
- Cloud Storage is the real GCS emulator; the Model Registry the strict Vertex fake
  (tests/fakes/model_registry.py); `gcloud` the stand-in of tests/fakes/gcloud.py, which
  answers the commands the steps run (Artifact Registry digests, functions, Eventarc,
  Pub/Sub, Cloud Scheduler) and refuses any other.

Steps that run no project code, or that this rehearsal cannot run, are listed in NOT_REHEARSED
with the reason; a step in neither list fails the test, so a new step cannot escape.
The Template Registry upload (`_TEMPLATE_REGISTRY` set) is not rehearsed: it runs kfp's
RegistryClient, for which no offline stand-in exists here (the substitution's default, empty,
publishes on Cloud Storage only).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from retrain.summary import summary_path
from tests.fakes import gcloud
from tests.fakes.model_registry import FakeModelRegistry
from tests.fakes.recording_proxy import RecordingProxy
from tests.iam.requests import check_granted_and_documented, recorded_needs

from .helpers import REPO
from .test_image_rehearsal import (
    CLOUDBUILD,
    SCRIPTS,
    VENV,
    _image_env,
    _substitute,
    _substitutions,
)
from .test_promotions import _summary

pytestmark = pytest.mark.tfx  # the compile step runs TFX's compiler in .venv-pipelines

PROJECT = "acme-prod"
BUCKET = f"{PROJECT}-retrain"  # the substitution `_BUCKET` is empty: <project>-retrain
SERVICE_RETRAIN = REPO / ".venv" / "bin" / "retrain"
DEPLOYER = "deployer"  # the Cloud Build trigger's service account (infra/iam.json)
NOT_REHEARSED = {
    "setup": "builds the environments the other steps run in (make setup, as here)",
    "lint-typecheck": "make lint typecheck: the checks every commit here runs",
    "tests": "the test suite itself (this test is part of it)",
    "image": "docker build: the environment is rehearsed as .venv-pipelines",
    "push": "docker push: the pushed tag is put in the stand-in Artifact Registry",
    "history": "git fetch --unshallow: the checkout here has its whole history",
}


def _runs_project_code(step: dict[str, Any]) -> bool:
    entry = str(step.get("entrypoint", ""))
    return entry == ".venv/bin/retrain" or (step["name"] == "${_IMAGE}" and entry in SCRIPTS)


def _checkout(root: Path) -> tuple[Path, str]:
    """This working tree's tracked files, committed in a new repository; returns its HEAD."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git = ["git", "-c", "user.name=rehearsal", "-c", "user.email=rehearsal@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "merge"], cwd=root, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    return root, head


def test_every_build_step_is_rehearsed_or_says_why_not() -> None:
    ids = [s["id"] for s in CLOUDBUILD["steps"]]
    rehearsed = [s["id"] for s in CLOUDBUILD["steps"] if _runs_project_code(s)]
    assert sorted(set(ids) - set(rehearsed)) == sorted(NOT_REHEARSED), (
        "a cloudbuild.yaml step is neither rehearsed nor listed in NOT_REHEARSED"
    )
    assert {"plan", "compile", "templates", "functions", "schedules", "promotions"} <= set(
        rehearsed
    )


class Build:
    """The Cloud Build trigger on this checkout: each merge runs the rehearsed steps in order,
    every request recorded with the identity making it (the trigger's service account)."""

    def __init__(self, tmp_path: Path, checkout: Path, gcs_emulator: str, vertex: str) -> None:
        self.tmp, self.checkout = tmp_path, checkout
        self.fakes = tmp_path / "gcloud"
        gcloud.install(tmp_path / "bin", self.fakes, DEPLOYER)
        self.storage = RecordingProxy(gcs_emulator).start()
        self.storage.account = DEPLOYER
        self.vertex = vertex

    def image(self, head: str) -> str:
        values = {**_substitutions(), "COMMIT_SHA": head, "PROJECT_ID": PROJECT}
        return _substitute(str(CLOUDBUILD["substitutions"]["_IMAGE"]), values)

    def merge(self, head: str) -> dict[str, str]:
        """Run the build for commit `head`; each rehearsed step's stdout by its id."""
        values = {**_substitutions(), "COMMIT_SHA": head, "PROJECT_ID": PROJECT}
        gcloud.push_image(self.fakes, self.image(head))  # the `push` step's result
        bin_dir = self.tmp / "bin"
        service_env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(self.tmp)}
        for item in CLOUDBUILD["options"]["env"]:
            name, _, value = _substitute(str(item), values).partition("=")
            service_env[name] = value
        service_env.update(
            STORAGE_EMULATOR_HOST=self.storage.url,
            RETRAIN_VERTEX_ENDPOINT=self.vertex,
            FAKE_GCLOUD_STATE=str(self.fakes),
        )
        ran = {}
        for step in CLOUDBUILD["steps"]:
            if not _runs_project_code(step):
                continue
            args = [_substitute(str(a), values) for a in step["args"]]
            if step["name"] == "${_IMAGE}":
                env = {**_image_env(self.checkout), "RETRAIN_GIT_SHA": head}
                env["PATH"] = f"{bin_dir}:{VENV / 'bin'}:/usr/bin:/bin"
                env["FAKE_GCLOUD_STATE"] = str(self.fakes)
                env["STORAGE_EMULATOR_HOST"] = self.storage.url
                _local_roots(self.checkout / "build" / "release-plan.json", self.checkout)
                argv = [str(VENV / "bin" / step["entrypoint"]), *args]
            else:
                env = service_env
                argv = [str(SERVICE_RETRAIN), *args]
            done = subprocess.run(
                argv, cwd=self.checkout, env=env, capture_output=True, text=True, timeout=900
            )
            assert done.returncode == 0, (
                f"{step['id']}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
            )
            ran[step["id"]] = done.stdout
        return ran


def _commit(checkout: Path, message: str) -> str:
    git = ["git", "-c", "user.name=rehearsal", "-c", "user.email=rehearsal@example.com"]
    subprocess.run([*git, "commit", "-q", "-am", message], cwd=checkout, check=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_merge_build_runs_in_order_against_the_stand_ins(
    tmp_path: Path, gcs: Any, gcs_emulator: str, registry_fake: FakeModelRegistry
) -> None:
    checkout, head = _checkout(tmp_path / "workspace")
    build = Build(tmp_path, checkout, gcs_emulator, registry_fake.endpoint)
    steps = build.merge(head)
    assert list(steps) == ["validate", "plan", "compile", "templates", "functions", "schedules",
                           "promotions"]  # fmt: skip
    # plan: a first release (no releases/latest.json yet), the image pinned to its digest
    plan = json.loads((checkout / "build" / "release-plan.json").read_text())
    assert plan["image"].startswith(build.image(head).rsplit(":", 1)[0] + "@sha256:")
    # templates: every spec's template under the commit, and the release index
    names = {b.name for b in gcs.list_blobs(BUCKET)}
    specs = sorted(p.stem for p in (checkout / "specs").glob("*.yaml"))
    assert {f"templates/{s}/{head}.json" for s in specs} <= names
    assert {f"releases/{head}.json", "releases/latest.json"} <= names
    # functions: deployed from the staged source, each trigger's subscription given its
    # dead-letter policy; schedules: one job per scheduled spec
    state = gcloud.state(build.fakes)
    assert sorted(state["functions"]) == sorted(_function_names())
    methods = [r["method"] for r in gcloud.requests(build.fakes)]
    assert methods.count("pubsub.projects.subscriptions.patch") == len(state["functions"])
    assert "cloudscheduler.projects.locations.jobs.list" in methods
    # promotions: the first release has no promotion to apply, so the registry is not called
    assert "no promotion changed" in steps["promotions"]
    assert registry_fake.requests == []

    # A promotion PR merges: churn's promotion.version names a blessed run of production.
    spec = checkout / "specs" / "churn.yaml"
    spec.write_text(spec.read_text().replace("alias: champion", _PROMOTED, 1))
    second = _commit(checkout, "promote churn")
    summary = summary_path(f"gs://{BUCKET}/pipelines/churn", "churn-data-1").split("/", 3)[3]
    gcs.bucket(BUCKET).blob(summary).upload_from_string(_summary(True, "gs://b/serving/1"))
    steps = build.merge(second)
    assert "churn: uploaded gs://b/serving/1 as churn with alias champion" in steps["promotions"]
    model = f"projects/{PROJECT}/locations/us-central1/models/churn"
    assert registry_fake.aliases(model) == {"1": ["champion", "default"]}
    build.storage.stop()
    # IAM from the requests both builds made, as the identity that made them
    needs = recorded_needs(
        build.storage.requests,
        gcloud.requests(build.fakes),
        [(DEPLOYER, r.method, r.path) for r in registry_fake.requests],
        BUCKET,
    )
    check_granted_and_documented(needs)


_PROMOTED = "alias: champion\n  version: churn-data-1"


def _function_names() -> list[str]:
    from retrain.delivery import names

    return [fn.name for fn in names.FUNCTIONS]


def _local_roots(plan_path: Path, checkout: Path) -> None:
    """The one change to what a step gets: the compile step reads local roots, as the image
    rehearsal does (a gs:// root makes the TFX compiler stage the trainer over the network)."""
    plan = json.loads(plan_path.read_text())
    plan["pipeline_root"] = str(checkout / "gcs" / "pipelines")
    plan["serving_root"] = str(checkout / "gcs" / "serving")
    plan_path.write_text(json.dumps(plan))
