"""A spec's resources in the compiled Vertex template, read back from its JSON: the Beam args of
every Beam component, the Trainer as a Vertex AI custom job, the steps' CPU and memory. One
compile of four specs covers the combinations (direct | dataflow) x (training | none)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipelines import cloud_args
from retrain.pipeline_env.compile import CompileOptions, compile_specs
from tests.conftest import PIPELINE_ENV, REPO

pytestmark = pytest.mark.tfx

OPTIONS = CompileOptions(
    pipeline_root="gs://acme-retrain/pipelines",
    serving_root="gs://acme-retrain/serving",
    image="europe-west4-docker.pkg.dev/acme-ml/retrain/pipelines:abc1234",
    project="acme-ml",
    region="europe-west4",
    service_account="retrain-pipelines@acme-ml.iam.gserviceaccount.com",
)
DATAFLOW = (
    "  data_processing:\n    runner: dataflow\n    machine_type: n1-standard-4\n"
    "    max_workers: 20\n    disk_size_gb: 50\n"
)
TRAINING = (
    "  training:\n    machine_type: n1-highmem-8\n"
    "    accelerator: {type: NVIDIA_TESLA_T4, count: 1}\n"
)
STEP = '  step: {cpu: "4", memory: 16G}\n'
COMBINATIONS = {
    "plain": "",
    "dataflow": DATAFLOW,
    "training": TRAINING,
    "both": DATAFLOW + TRAINING + STEP,
}
BEAM = {"BigQueryExampleGen", "StatisticsGen", "Transform", "Evaluator"}
DIRECT_ARGS = [
    "--allow_unsafe_triggers",
    "--project=acme-ml",
    "--region=europe-west4",
    "--temp_location=gs://acme-retrain/pipelines/tmp",
]
DATAFLOW_ARGS = [
    "--runner=DataflowRunner",
    "--project=acme-ml",
    "--region=europe-west4",
    "--temp_location=gs://acme-retrain/pipelines/tmp",
    "--staging_location=gs://acme-retrain/pipelines/staging",
    f"--sdk_container_image={OPTIONS.image}",
    "--service_account_email=retrain-pipelines@acme-ml.iam.gserviceaccount.com",
    "--machine_type=n1-standard-4",
    "--max_num_workers=20",
    "--disk_size_gb=50",
]
VERTEX_TRAINER = "tfx.extensions.google_cloud_ai_platform.trainer.executor.GenericExecutor"
LOCAL_TRAINER = "tfx.components.trainer.executor.GenericExecutor"


def _spec_text(name: str, resources: str) -> str:
    text = (REPO / "specs" / "churn.yaml").read_text()
    text = text.replace("name: churn\n", f"name: churn-{name}\n")
    text = text.replace("registry_model: churn\n", f"registry_model: churn-{name}\n")
    head, _, tail = text.partition("resources:\n")
    tail = tail.split("\n", 1)[1]  # drop churn's own resources line
    return head + ("resources:\n" + resources if resources else "") + tail


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("resources")
    for name, resources in COMBINATIONS.items():
        (root / f"churn-{name}.yaml").write_text(_spec_text(name, resources))
        schema = (REPO / "specs" / "churn.schema.pbtxt").read_text()
        (root / f"churn-{name}.schema.pbtxt").write_text(schema)
    out = root / "out"
    cwd = Path.cwd()
    os.chdir(REPO)
    try:
        compile_specs(PIPELINE_ENV, sorted(root.glob("*.yaml")), out, OPTIONS)
    finally:
        os.chdir(cwd)
    return {
        name: json.loads((out / f"churn-{name}.json").read_text())["pipelineSpec"]
        for name in COMBINATIONS
    }


def _containers(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Component name -> its container spec (executors are `<task>_executor`)."""
    executors = template["deploymentSpec"]["executors"]
    return {
        name.removesuffix("_executor"): spec["container"]
        for name, spec in executors.items()
        if "container" in spec and not name.startswith("latest_blessed_model_resolver")
    }


def _flags(container: dict[str, Any]) -> list[str]:
    args = container.get("args", [])
    return [a for a in args if (a.startswith("--") and "=" in a) or a == "--allow_unsafe_triggers"]


def _executor_class(container: dict[str, Any]) -> str:
    args = container["args"]
    return str(args[args.index("--executor_class_path") + 1])


def _trainer_config(template: dict[str, Any]) -> dict[str, Any]:
    parameters = template["root"]["dag"]["tasks"]["Trainer"]["inputs"]["parameters"]
    text = parameters["custom_config"]["runtimeValue"]["constantValue"]["stringValue"]
    return dict(json.loads(text))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plain", DIRECT_ARGS),
        ("training", DIRECT_ARGS),
        ("dataflow", DATAFLOW_ARGS),
        ("both", DATAFLOW_ARGS),
    ],
)
def test_every_beam_component_and_only_those_get_the_runner_args(
    templates: dict[str, dict[str, Any]], name: str, expected: list[str]
) -> None:
    containers = _containers(templates[name])
    assert set(containers) >= BEAM
    for component, container in containers.items():
        assert _flags(container) == (expected if component in BEAM else []), component


@pytest.mark.parametrize(
    ("name", "vertex"), [("plain", False), ("dataflow", False), ("training", True), ("both", True)]
)
def test_the_trainer_is_a_vertex_custom_job_when_training_is_set(
    templates: dict[str, dict[str, Any]], name: str, vertex: bool
) -> None:
    trainer = _containers(templates[name])["Trainer"]
    config = _trainer_config(templates[name])
    assert config["retrain"]["label"] == "churned"  # the trainer module's settings stay
    if not vertex:
        assert _executor_class(trainer) == LOCAL_TRAINER
        assert not any(key.startswith("ai_platform") for key in config)
        return
    assert _executor_class(trainer) == VERTEX_TRAINER
    assert config[cloud_args.ENABLE_VERTEX_KEY] is True
    assert config[cloud_args.VERTEX_REGION_KEY] == "europe-west4"
    assert config[cloud_args.TRAINING_ARGS_KEY] == {
        "project": "acme-ml",
        "job_spec": {
            "service_account": "retrain-pipelines@acme-ml.iam.gserviceaccount.com",
            "worker_pool_specs": [
                {
                    "container_spec": {"image_uri": OPTIONS.image},
                    "machine_spec": {
                        "accelerator_count": 1,
                        "accelerator_type": "NVIDIA_TESLA_T4",
                        "machine_type": "n1-highmem-8",
                    },
                    "replica_count": 1,
                }
            ],
        },
    }


def test_step_limits_reach_every_container_only_when_set(
    templates: dict[str, dict[str, Any]],
) -> None:
    for name in ("plain", "dataflow", "training"):
        assert all("resources" not in c for c in _containers(templates[name]).values())
    limits = {n: c.get("resources") for n, c in _containers(templates["both"]).items()}
    assert limits and set(map(json.dumps, limits.values())) == {
        json.dumps({"cpuLimit": 4.0, "memoryLimit": 16.0})
    }


def test_our_custom_config_keys_are_the_ones_tfx_reads() -> None:
    """cloud_args spells TFX's keys without importing TFX; hold it to TFX's own constants."""
    code = (
        "from tfx.extensions.google_cloud_ai_platform import constants as c\n"
        "from tfx.extensions.google_cloud_ai_platform.trainer import executor as e\n"
        "print(c.ENABLE_VERTEX_KEY, c.VERTEX_REGION_KEY, e.TRAINING_ARGS_KEY)"
    )
    found = subprocess.run(
        [str(PIPELINE_ENV.python), "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert found == [
        cloud_args.ENABLE_VERTEX_KEY,
        cloud_args.VERTEX_REGION_KEY,
        cloud_args.TRAINING_ARGS_KEY,
    ]


def test_a_candidate_template_trains_in_its_step_and_runs_beam_there(tmp_path: Path) -> None:
    """Candidate runs (PR code, retrain-candidate-runs) create no Dataflow job and no Vertex
    custom job, whatever the spec asks (the candidate workflow compiles with --no-dataflow
    --no-vertex-training): that identity holds neither permission (tests/iam)."""
    (tmp_path / "churn-both.yaml").write_text(_spec_text("both", COMBINATIONS["both"]))
    schema = (REPO / "specs" / "churn.schema.pbtxt").read_text()
    (tmp_path / "churn-both.schema.pbtxt").write_text(schema)
    candidate = OPTIONS.model_copy(update={"dataflow": False, "vertex_training": False})
    cwd = Path.cwd()
    os.chdir(REPO)
    try:
        compile_specs(PIPELINE_ENV, [tmp_path / "churn-both.yaml"], tmp_path / "out", candidate)
    finally:
        os.chdir(cwd)
    template = json.loads((tmp_path / "out" / "churn-both.json").read_text())["pipelineSpec"]
    containers = _containers(template)
    assert _executor_class(containers["Trainer"]) == LOCAL_TRAINER
    assert not any(key.startswith("ai_platform") for key in _trainer_config(template))
    for component in BEAM:
        assert _flags(containers[component]) == DIRECT_ARGS, component
