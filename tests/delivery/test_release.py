"""Release plans (what compiles, what carries over) and publishing (checks before uploads)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrain.delivery.release import ReleaseIndex, plan_release
from retrain.delivery.templates import images_in, publish, read_previous
from retrain.errors import BackendError
from retrain.spec import load_spec

from .helpers import REPO, SHA, RecordingRunner, config, refuse

SPECS = [(load_spec(p), p) for p in sorted((REPO / "specs").glob("*.yaml"))]
COMPILED = REPO / "tests" / "delivery" / "fixtures"


def test_first_release_compiles_everything() -> None:
    plan = plan_release(SPECS, "code-1", config(), None)
    assert [s.action for s in plan.specs] == ["compile", "compile"]
    assert plan.image == f"us-central1-docker.pkg.dev/acme-prod/retrain/pipelines:{SHA}"
    assert plan.specs[0].template_uri == f"gs://acme-prod-retrain/templates/churn/{SHA}.json"


def _released(code: str) -> ReleaseIndex:
    first = plan_release(SPECS, code, config(git_sha="a" * 40), None)
    return ReleaseIndex.model_validate(
        {
            "git_sha": "a" * 40,
            "specs": {
                s.name: {
                    "content_hash": s.content_hash,
                    "spec_version": s.spec_version,
                    "template_uri": s.template_uri,
                    "images": [first.image],
                    "promotion": s.promotion,
                }
                for s in first.specs
            },
        }
    )


def test_unchanged_specs_carry_their_previous_template_to_the_new_commit() -> None:
    previous = _released("code-1")
    plan = plan_release(SPECS, "code-1", config(), previous)
    assert [s.action for s in plan.specs] == ["carry", "carry"]
    churn = plan.specs[0]
    assert churn.carry_from == f"gs://acme-prod-retrain/templates/churn/{'a' * 40}.json"
    assert churn.template_uri.endswith(f"/churn/{SHA}.json")
    assert plan.previous_sha == "a" * 40
    assert [s.action for s in plan_release(SPECS, "code-1", config(), previous, True).specs] == [
        "compile",
        "compile",
    ]


def test_a_changed_spec_or_changed_pipeline_code_recompiles() -> None:
    previous = _released("code-1")
    edited = previous.specs["churn"].model_copy(update={"content_hash": "different"})
    one = previous.model_copy(update={"specs": {**previous.specs, "churn": edited}})
    assert [s.action for s in plan_release(SPECS, "code-1", config(), one).specs] == [
        "compile",
        "carry",
    ]
    assert [s.action for s in plan_release(SPECS, "code-2", config(), previous).specs] == [
        "compile",
        "compile",
    ]


def _compiled(tmp_path: Path, image: str) -> Path:
    out = tmp_path / "pipelines"
    out.mkdir()
    for name in ("churn", "house-prices"):
        template = json.loads((COMPILED / "template.json").read_text())
        for executor in template["pipelineSpec"]["deploymentSpec"]["executors"].values():
            if "container" in executor:
                executor["container"]["image"] = image
        (out / f"{name}.json").write_text(json.dumps(template))
    return out


def test_publish_checks_images_then_uploads_then_writes_the_index(tmp_path: Path) -> None:
    plan = plan_release(SPECS, "code", config(), None)
    compiled = _compiled(tmp_path, plan.image)
    runner = RecordingRunner(answer=lambda argv: "sha256:abc" if "describe" in argv else "")
    index = publish(plan, compiled, config(), runner)
    lines = runner.lines()
    assert lines[0].startswith(f"gcloud artifacts docker images describe {plan.image}")
    uploads = [i for i, line in enumerate(lines) if "/templates/" in line]
    index_writes = [i for i, line in enumerate(lines) if "/releases/" in line]
    assert len(uploads) == 2 and len(index_writes) == 2
    assert max(uploads) < min(index_writes)  # a release is visible only once complete
    assert all("--no-clobber" in lines[i] for i in uploads)
    assert lines[-1].endswith("gs://acme-prod-retrain/releases/latest.json")
    assert index.specs["churn"].images == [plan.image]
    ir = json.loads((compiled / "ir" / "churn.pipeline.json").read_text())
    assert "deploymentSpec" in ir and "pipelineSpec" not in ir


def test_an_image_not_pushed_publishes_nothing(tmp_path: Path) -> None:
    plan = plan_release(SPECS, "code", config(), None)
    compiled = _compiled(tmp_path, plan.image)
    runner = RecordingRunner(answer=refuse("NOT_FOUND: image"))
    with pytest.raises(BackendError, match="not pushed yet"):
        publish(plan, compiled, config(), runner)
    assert not [c for c in runner.commands if c[:3] == ["gcloud", "storage", "cp"]]


def test_a_template_naming_a_local_image_is_refused(tmp_path: Path) -> None:
    plan = plan_release(SPECS, "code", config(), None)
    compiled = _compiled(tmp_path, "retrain-pipelines:local")
    runner = RecordingRunner()
    with pytest.raises(BackendError, match="retrain-pipelines:local"):
        publish(plan, compiled, config(), runner)
    assert runner.commands == []


def test_carried_templates_are_copied_server_side(tmp_path: Path) -> None:
    plan = plan_release(SPECS, "code-1", config(), _released("code-1"))
    runner = RecordingRunner()
    publish(plan, tmp_path, config(), runner)
    copies = [c for c in runner.commands if "/templates/" in " ".join(c)]
    assert copies[0][-2].endswith(f"/churn/{'a' * 40}.json")
    assert copies[0][-1].endswith(f"/churn/{SHA}.json")


def test_read_previous_release() -> None:
    index = _released("x")
    latest = "gs://acme-prod-retrain/releases/latest.json"

    def answer(argv: list[str]) -> str:
        return f"{latest}\n" if argv[2] == "ls" else index.model_dump_json()

    assert read_previous(config(), RecordingRunner(answer=answer)) == index
    assert (
        read_previous(
            config(), RecordingRunner(answer=refuse("One or more URLs matched no objects."))
        )
        is None
    )
    with pytest.raises(BackendError, match="permission"):
        read_previous(config(), RecordingRunner(answer=refuse("permission denied")))


def test_images_in_a_real_compiled_template() -> None:
    assert images_in(json.loads((COMPILED / "template.json").read_text())) == [
        "retrain-pipelines:local"
    ]
