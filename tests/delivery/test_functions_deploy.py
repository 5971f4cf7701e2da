"""Function deployment: pinned requirements, the staged source, the gcloud argv."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from retrain.delivery import names
from retrain.delivery.apply import Ports, apply
from retrain.delivery.functions import (
    deploy_argv,
    functions_plan,
    pinned_requirements,
    stage_source,
)
from retrain.delivery.plan import DeadLetter, Run
from retrain.errors import BackendError
from retrain.settings import Settings
from retrain.topics import TOPICS
from tests.fakes.runner import RecordingRunner

from .helpers import REPO, SHA, config

LOCK = (REPO / "uv.lock").read_text()


def test_requirements_pin_the_service_closure_and_nothing_for_development() -> None:
    pins = {line.split("==")[0]: line for line in pinned_requirements(LOCK)}
    for needed in (
        "functions-framework",
        "google-cloud-aiplatform",
        "pydantic",
        "pyyaml",
        "pygithub",
        "grpcio",
    ):
        assert needed in pins, needed
    for dev in ("pytest", "mypy", "ruff", "hypothesis"):
        assert dev not in pins
    assert "retrain" not in pins  # shipped as source, not as a package
    assert all("==" in line for line in pins.values())


def test_staged_source_imports_and_routes_with_its_own_copy(tmp_path: Path) -> None:
    out = stage_source(REPO, tmp_path / "src")
    assert {p.name for p in out.iterdir()} == {"main.py", "retrain", "specs", "requirements.txt"}
    assert not list(out.rglob("__pycache__"))
    # Import it the way the runtime does: from the source root, in isolation from this checkout.
    code = "import main, retrain; print(retrain.__file__); assert main.on_data_arrival"
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, '.'); {code}"],
        cwd=out, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(out))


def test_each_function_is_deployed_from_its_topic_with_its_identity_and_size(
    tmp_path: Path,
) -> None:
    by_entry = {fn.entry_point: fn for fn in names.FUNCTIONS}
    assert {fn.entry_point: fn.topic for fn in names.FUNCTIONS} == TOPICS
    argv = deploy_argv(by_entry["on_run_complete"], config(github_repo="acme/models"), tmp_path)
    assert argv[:4] == ["gcloud", "functions", "deploy", "retrain-run-complete"]
    assert "--gen2" in argv and "--retry" in argv
    assert "--trigger-topic=retrain-run-complete" in argv
    assert "--service-account=retrain-functions@acme-prod.iam.gserviceaccount.com" in argv
    assert "--memory=1Gi" in argv
    assert "--set-secrets=RETRAIN_GITHUB_TOKEN=retrain-github-token:latest" in argv
    assert not any("ghp_" in a or ("TOKEN=" in a and "secret" not in a) for a in argv)


def test_the_env_it_sets_is_what_the_functions_accept() -> None:
    fn = names.FUNCTIONS[0]
    argv = deploy_argv(fn, config(), Path("src"))
    pairs = next(a for a in argv if a.startswith("--set-env-vars=")).split("=", 1)[1]
    env = dict(item.split("=", 1) for item in pairs.split(","))
    settings = Settings.from_env(env)  # the functions' own settings parser
    assert settings.backend == "vertex" and settings.git_sha == SHA
    assert settings.template_uri.format(spec="churn", spec_version="v", git_sha=SHA) == (
        f"gs://acme-prod-retrain/templates/churn/{SHA}.json"
    )


def test_deploy_sets_the_dead_letter_policy_on_the_trigger_subscription(tmp_path: Path) -> None:
    def answer(argv: list[str]) -> str:
        if argv[:3] == ["gcloud", "functions", "describe"]:
            return f"projects/acme-prod/locations/us-central1/triggers/{argv[3]}-x\n"
        if argv[:3] == ["gcloud", "eventarc", "triggers"]:
            return f"projects/acme-prod/subscriptions/eventarc-{argv[4].rsplit('/', 1)[1]}\n"
        return ""

    runner = RecordingRunner(answer=answer)
    plan = functions_plan(REPO, tmp_path / "stage", config())
    apply(plan, Ports(runner), echo=io.StringIO())
    deployed = [c[3] for c in runner.commands if c[:3] == ["gcloud", "functions", "deploy"]]
    assert deployed == [fn.name for fn in names.FUNCTIONS]
    updates = [c for c in runner.commands if c[:3] == ["gcloud", "pubsub", "subscriptions"]]
    assert [u[4] for u in updates] == [
        f"projects/acme-prod/subscriptions/eventarc-{fn.name}-x" for fn in names.FUNCTIONS
    ]
    assert "--dead-letter-topic=projects/acme-prod/topics/retrain-dead-letter" in updates[0]
    assert "--max-delivery-attempts=5" in updates[0]


def test_a_missing_trigger_subscription_is_an_error(tmp_path: Path) -> None:
    plan = functions_plan(REPO, tmp_path / "stage", config())
    with pytest.raises(BackendError, match="no Pub/Sub subscription"):
        apply(plan, Ports(RecordingRunner()), echo=io.StringIO())


def test_the_plan_deploys_each_function_then_sets_its_dead_letter_policy(tmp_path: Path) -> None:
    plan = functions_plan(REPO, tmp_path / "stage", config())
    kinds = [type(a) for a in plan.actions]
    assert kinds == [Run, DeadLetter] * len(names.FUNCTIONS)
    lines = plan.lines()  # what a dry run prints: the subscription is not known yet
    assert (
        "would run: gcloud pubsub subscriptions update '<subscription of retrain-data-arrival>'"
        in (lines[1])
    )
