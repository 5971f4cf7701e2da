"""cloud_args without TFX: what each resources setting adds, and what an unset one leaves out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.cloud_args import CloudTarget, beam_args, vertex_training_config
from retrain.cli.main import main
from retrain.pipeline_env.compile import CANDIDATE_TEMP_DATASET, TEMP_DATASET, CompileOptions
from retrain.spec.model import DataProcessing, Training
from tests.conftest import REPO

CLOUD = CloudTarget(
    project="acme-ml",
    region="us-east1",
    image="img:1",
    temp_location="gs://b/tmp",
    staging_location="gs://b/staging",
)


def test_dataflow_leaves_unset_worker_settings_to_dataflow() -> None:
    args = beam_args(DataProcessing(runner="dataflow"), CLOUD)
    assert args == (
        "--runner=DataflowRunner",
        "--project=acme-ml",
        "--region=us-east1",
        "--temp_location=gs://b/tmp",
        "--staging_location=gs://b/staging",
        "--sdk_container_image=img:1",
    )


def test_direct_runs_in_the_step_with_what_bigquery_reads_need() -> None:
    assert beam_args(DataProcessing(), CLOUD) == (
        "--allow_unsafe_triggers",
        "--project=acme-ml",
        "--region=us-east1",
        "--temp_location=gs://b/tmp",
    )


def test_a_cpu_training_job_names_no_accelerator_and_no_account() -> None:
    config = vertex_training_config(Training(machine_type="n2-standard-8"), CLOUD)
    job = config["ai_platform_training_args"]
    assert job["project"] == "acme-ml"
    assert "service_account" not in job["job_spec"]
    (pool,) = job["job_spec"]["worker_pool_specs"]
    assert pool["machine_spec"] == {"machine_type": "n2-standard-8"}
    assert pool["container_spec"] == {"image_uri": "img:1"}


def test_without_dataflow_a_dataflow_spec_runs_in_its_step() -> None:
    """Candidate runs: their account holds no Dataflow roles (tests/iam/calls.py)."""
    data = DataProcessing(runner="dataflow", machine_type="n1-standard-4")
    candidate = CloudTarget(**{**CLOUD.__dict__, "dataflow": False})
    assert beam_args(data, candidate) == beam_args(DataProcessing(), CLOUD)


def test_compile_refuses_a_malformed_project_before_starting_tfx(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = str(REPO / "specs" / "churn.yaml")
    code = main(["compile", spec, "--out", str(tmp_path), "--project", "Not_A_Project"])
    assert code == 2
    assert capsys.readouterr().err.startswith(
        "retrain compile: --project: String should match pattern"
    )
    assert list(tmp_path.iterdir()) == []


def test_bigquery_reads_use_the_dataset_terraform_creates() -> None:
    """Beam's BigQuery read gets a temporary dataset (pipelines/components/bigquery.py), the
    one infra/main.tf creates; candidate runs (PR code) get their own."""
    options = CompileOptions(
        pipeline_root="gs://b/p", serving_root="gs://b/s", image="i", project="acme-prod",
        region="us-central1",
    )  # fmt: skip
    assert options.temp_dataset == f"acme-prod.{TEMP_DATASET}"
    main_tf = (REPO / "infra" / "main.tf").read_text()
    datasets = re.search(
        r'resource "google_bigquery_dataset" "temp" \{\s*for_each\s*=\s*(\{[^}]*\})', main_tf
    )
    assert datasets is not None
    assert f'tmp = "{TEMP_DATASET}"' in datasets.group(1)
    assert f'candidates_tmp = "{CANDIDATE_TEMP_DATASET}"' in datasets.group(1)
    workflow = (REPO / ".github" / "workflows" / "candidate-run.yml").read_text()
    assert f'--bigquery-temp-dataset "${{RETRAIN_PROJECT}}.{CANDIDATE_TEMP_DATASET}"' in workflow
    with pytest.raises(ValueError):
        CompileOptions(**{**options.model_dump(), "bigquery_temp_dataset": "no_project"})
