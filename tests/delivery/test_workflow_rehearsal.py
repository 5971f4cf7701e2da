"""The GitHub workflow steps that run this project's code, rehearsed from the workflow files:
each step's `run` script, its `${{ }}` expressions filled in from the event the rehearsal
plays (a pull request changing a spec), run with bash as Actions runs it (`bash -eo pipefail`),
with the job's and step's `env`, `GITHUB_OUTPUT` and `GITHUB_ENV` carried between steps.

Played in order: pr.yml's checks (validate, changed specs, compile), then candidate-run.yml
(compile, submit) with the specs the checks found, then candidate-fork.yml's gate (the base
branch's retrain over the fork's tree). Cloud Storage is the GCS emulator behind the recording
proxy, Vertex AI the PipelineJob fake, gcloud the stand-in; every request is recorded as the
CI identity (`retrain-ci`) and checked against its grants (tests/iam/requests.py).

A step whose script names `retrain` and that is not played here fails the test; steps that do
not run project code (setup, lint, docker build and push) are left to the workflow itself.
An unknown `${{ }}` expression fails the test rather than becoming an empty string.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from retrain.localstack.fake_vertex import FakeVertex
from tests.fakes import gcloud
from tests.fakes.recording_proxy import RecordingProxy
from tests.iam.requests import check_granted_and_documented, recorded_needs

from .helpers import REPO
from .test_build_rehearsal import _checkout, _commit

pytestmark = pytest.mark.tfx  # the compile steps run TFX's compiler in .venv-pipelines

WORKFLOWS = REPO / ".github" / "workflows"
PROJECT = "acme-prod"
REGION = "us-central1"
BUCKET = f"{PROJECT}-retrain"
CI = "ci"  # the account GitHub Actions acts as (infra/iam.json)
PR = "12"
# (workflow, job, step name) played, in order
PLAYED = [
    ("pr.yml", "checks", "validate specs"),
    ("pr.yml", "checks", "changed specs"),
    ("pr.yml", "checks", "compile"),
    ("candidate-run.yml", "run", "compile"),
    ("candidate-run.yml", "run", "submit the candidate runs"),
    ("candidate-fork.yml", "gate", "changed specs (base code, the fork's tree read by git diff)"),
]


def _workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def _step(workflow: str, job: str, name: str) -> dict[str, Any]:
    steps = _workflow(workflow)["jobs"][job]["steps"]
    found: dict[str, Any] = next(s for s in steps if s.get("name") == name)
    return found


def test_every_workflow_step_running_retrain_is_played() -> None:
    running = sorted(
        (path.name, job, str(step.get("name")))
        for path in WORKFLOWS.glob("*.yml")
        for job, spec in _workflow(path.name)["jobs"].items()
        for step in spec.get("steps", [])
        if re.search(r"\bretrain\b", str(step.get("run", "")))
    )
    assert running == sorted(PLAYED)


_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _fill(text: str, context: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        assert expression in context, f"no value for ${{{{ {expression} }}}} in the rehearsal"
        return context[expression]

    return _EXPRESSION.sub(value, text)


def _outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `name=value` lines and `name<<DELIM` blocks."""
    found: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            found[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        name, _, value = line.partition("=")
        found[name] = value
        i += 1
    return found


class Runner:
    """One Actions job's steps on the workspace, as `bash -eo pipefail` with the job's env."""

    def __init__(self, tmp: Path, workspace: Path, base_env: dict[str, str]) -> None:
        self.tmp, self.workspace, self.base_env = tmp, workspace, base_env
        self.github_env: dict[str, str] = {}

    def play(self, workflow: str, job: str, name: str, context: dict[str, str]) -> dict[str, str]:
        spec = _workflow(workflow)
        step = _step(workflow, job, name)
        env = dict(self.base_env)
        for scope in (spec.get("env", {}), spec["jobs"][job].get("env", {}), step.get("env", {})):
            env.update({k: _fill(str(v), context) for k, v in scope.items()})
        env.update(self.github_env)
        output, github_env = self.tmp / "output", self.tmp / "github_env"
        for path in (output, github_env):
            path.write_text("")
        env.update(GITHUB_OUTPUT=str(output), GITHUB_ENV=str(github_env))
        cwd = self.workspace / step.get("working-directory", ".")
        script = _fill(step["run"], context)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, (
            f"{workflow} {name}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
        self.github_env.update(_outputs(github_env))
        return _outputs(output)


def test_the_pull_request_workflows_run_in_order_against_the_stand_ins(
    tmp_path: Path, gcs: Any, gcs_emulator: str, vertex_fake: FakeVertex
) -> None:
    workspace, base = _checkout(tmp_path / "workspace")
    spec = workspace / "specs" / "churn.yaml"
    spec.write_text(spec.read_text().replace("train_steps: 300", "train_steps: 400", 1))
    head = _commit(workspace, "a PR changes churn")
    subprocess.run(
        ["git", "update-ref", "refs/remotes/origin/main", base], cwd=workspace, check=True
    )
    (workspace / ".venv").symlink_to(REPO / ".venv")  # `make setup` built it
    fakes = tmp_path / "gcloud"
    gcloud.install(tmp_path / "bin", fakes, CI)
    image = f"{REGION}-docker.pkg.dev/{PROJECT}/retrain-candidates/pipelines:{head}"
    digest = gcloud.push_image(fakes, image)  # the step that builds and pushes the image
    storage = RecordingProxy(gcs_emulator).start()
    storage.account = CI
    base_env = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "STORAGE_EMULATOR_HOST": storage.url,
        "RETRAIN_VERTEX_ENDPOINT": vertex_fake.endpoint,
        "FAKE_GCLOUD_STATE": str(fakes),
        "RETRAIN_PIPELINES_PYTHON": str(REPO / ".venv-pipelines" / "bin" / "python"),
    }
    event = {
        "github.event.pull_request.base.sha": base,
        "github.event.pull_request.base.ref": "main",
        "github.event.pull_request.head.sha": head,
        "github.workspace": str(tmp_path / "fork"),
        "vars.GCP_PROJECT": PROJECT,
        "vars.GCP_REGION": REGION,
    }
    checks = Runner(tmp_path, workspace, base_env)
    checks.play("pr.yml", "checks", "validate specs", event)
    changed = checks.play("pr.yml", "checks", "changed specs", event)
    assert changed["any"] == "true" and json.loads(changed["specs"]) == ["specs/churn.yaml"]
    event["steps.changed.outputs.specs"] = changed["specs"]
    checks.play("pr.yml", "checks", "compile", event)
    assert (workspace / "build" / "pipelines" / "churn.json").is_file()

    run = Runner(tmp_path, workspace, base_env)
    run.github_env["PINNED_IMAGE"] = f"{image.rsplit(':', 1)[0]}@{digest}"
    inputs = {"inputs.ref": head, "inputs.pr": PR, "inputs.specs": changed["specs"],
              "inputs.environment": "candidate-runs"}  # fmt: skip
    run.play("candidate-run.yml", "run", "compile", {**event, **inputs})
    run.play("candidate-run.yml", "run", "submit the candidate runs", {**event, **inputs})
    [job] = vertex_fake.jobs.values()
    assert job["serviceAccount"] == f"retrain-candidate-runs@{PROJECT}.iam.gserviceaccount.com"
    assert job["labels"]["retrain-pr"] == PR
    names = {b.name for b in gcs.list_blobs(BUCKET)}
    assert f"candidates/churn/{head}.json" in names

    # A fork's PR: the base branch's retrain (base/) reads the fork's tree (pr/) with git only.
    fork = tmp_path / "fork"
    fork.mkdir()
    (fork / "base").symlink_to(workspace)
    (fork / "pr").symlink_to(workspace)
    gate = Runner(tmp_path, fork, base_env)
    found = gate.play("candidate-fork.yml", "gate", PLAYED[-1][2], event)
    assert json.loads(found["specs"]) == ["specs/churn.yaml"]

    storage.stop()
    needs = recorded_needs(
        storage.requests,
        gcloud.requests(fakes),
        [(CI, r.method, r.path) for r in vertex_fake.requests],
        BUCKET,
    )
    check_granted_and_documented(needs)
