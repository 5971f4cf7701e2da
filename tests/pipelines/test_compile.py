"""KubeflowV2DagRunner compile: tasks and parameters, determinism, incrementality."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from retrain.data.samples import example_spec_files
from retrain.pipeline_env.compile import CompileOptions, compile_specs
from retrain.runs import RUNTIME_PARAMETERS
from retrain.spec.tfschema import schema_path
from tests.conftest import PIPELINE_ENV, REPO

pytestmark = pytest.mark.tfx

OPTIONS = CompileOptions(
    pipeline_root="gs://test-bucket/pipelines",
    serving_root="gs://test-bucket/serving",
    image="europe-docker.pkg.dev/test/retrain/pipelines:abc123",
    project="test-project",
    region="europe-west4",
    service_account="retrain-pipelines@test-project.iam.gserviceaccount.com",
)


def test_compile_is_complete_deterministic_and_incremental(
    repo_cwd: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs_dir = tmp_path / "specs"
    specs_dir.mkdir()
    for example in example_spec_files(REPO / "specs"):  # not a user's own spec beside them
        for source in (example, schema_path(example)):
            shutil.copy(source, specs_dir / source.name)
    paths = sorted(specs_dir.glob("*.yaml"))
    out = tmp_path / "out"

    compiled, unchanged = compile_specs(PIPELINE_ENV, paths, out, OPTIONS)
    assert (sorted(compiled), unchanged) == (["churn", "house-prices"], [])

    churn = json.loads((out / "churn.json").read_text())
    spec = churn["pipelineSpec"]
    tasks = set(spec["root"]["dag"]["tasks"])
    assert {
        "BigQueryExampleGen",
        "StatisticsGen",
        "ImportSchemaGen",
        "ExampleValidator",
        "Transform",
        "Trainer",
        "Evaluator",
        "Pusher",
        "EvaluationSummaryWriter",
    } <= tasks
    assert "SchemaGen" not in tasks  # never re-inferred from a run's own data
    schema_gen = spec["root"]["dag"]["tasks"]["ImportSchemaGen"]["inputs"]["parameters"]
    # The pipeline image holds specs/ under /pipeline (docker/pipelines.Dockerfile).
    assert schema_gen["schema_file"]["runtimeValue"]["constantValue"]["stringValue"] == (
        "/pipeline/specs/churn.schema.pbtxt"
    )
    # The baseline is production's model, imported from the per-run `baseline_uri`; TFX's
    # latest-blessed resolver (which would pick unmerged PR candidates) is gone.
    assert not any("resolver" in t for t in tasks)
    importer = spec["root"]["dag"]["tasks"]["production_model"]["inputs"]["parameters"]
    assert importer["artifact_uri"] == {"componentInputParameter": "baseline_uri"}
    executors = spec["deploymentSpec"]["executors"]
    assert executors["production_model_executor"]["importer"]["artifactUri"] == {
        "runtimeParameter": "artifact_uri"
    }
    evaluator_image = executors["Evaluator_executor"]["container"]
    assert "pipelines.components.evaluator.Executor" in json.dumps(evaluator_image)
    assert set(spec["root"]["inputDefinitions"]["parameters"]) == set(RUNTIME_PARAMETERS)
    assert churn["runtimeConfig"]["gcsOutputDirectory"] == "gs://test-bucket/pipelines/churn"
    assert OPTIONS.image in (out / "churn.json").read_text()
    evaluator = spec["root"]["dag"]["tasks"]["Evaluator"]["inputs"]["parameters"]
    eval_config = json.loads(
        evaluator["eval_config"]["runtimeValue"]["constantValue"]["stringValue"]
    )
    auc = next(m for m in eval_config["metrics_specs"][0]["metrics"] if m["class_name"] == "AUC")
    # Thresholds gate the whole eval set only, never each slice.
    assert "threshold" not in auc
    (gate,) = auc["per_slice_thresholds"]
    assert gate["slicing_specs"] == [{}]
    assert gate["threshold"]["change_threshold"]["absolute"] == -0.02
    assert gate["threshold"]["value_threshold"]["lower_bound"] == 0.75
    # every metric and change with an interval: TFMA's Poisson bootstrap
    assert eval_config["options"]["compute_confidence_intervals"] is True
    assert eval_config["options"]["confidence_intervals"]["method"] == "POISSON_BOOTSTRAP"
    regressor = json.loads((out / "house-prices.json").read_text())["pipelineSpec"]
    # The delivery tests read a checked-in copy of a compiled template: it must stay real.
    fixture = json.loads((REPO / "tests/delivery/fixtures/template.json").read_text())
    executors = regressor["deploymentSpec"]["executors"]
    assert set(fixture["pipelineSpec"]["deploymentSpec"]["executors"]) == set(executors)
    assert "Transform" not in regressor["root"]["dag"]["tasks"]

    first_bytes = {p.name: p.read_bytes() for p in out.glob("*.json")}
    capsys.readouterr()
    assert compile_specs(PIPELINE_ENV, paths, out, OPTIONS) == ([], ["churn", "house-prices"])
    assert "unchanged churn" in capsys.readouterr().out

    compiled, _ = compile_specs(PIPELINE_ENV, paths, out, OPTIONS, force=True)
    assert sorted(compiled) == ["churn", "house-prices"]
    assert {p.name: p.read_bytes() for p in out.glob("*.json")} == first_bytes

    churn_yaml = specs_dir / "churn.yaml"
    churn_yaml.write_text(churn_yaml.read_text().replace("train_steps: 300", "train_steps: 350"))
    assert compile_specs(PIPELINE_ENV, paths, out, OPTIONS) == (["churn"], ["house-prices"])
    assert (out / "house-prices.json").read_bytes() == first_bytes["house-prices.json"]
    assert (out / "churn.json").read_bytes() != first_bytes["churn.json"]

    # A reviewed schema change needs a new template: the image it names holds the schema.
    schema = specs_dir / "house-prices.schema.pbtxt"
    schema.write_text(schema.read_text() + "# reviewed\n")
    assert compile_specs(PIPELINE_ENV, paths, out, OPTIONS) == (["house-prices"], ["churn"])


def test_compile_multiclass_and_missing_label_filter(repo_cwd: Path, tmp_path: Path) -> None:
    specs_dir = tmp_path / "specs"
    specs_dir.mkdir()
    for name in ("penguins-species", "penguins-sex"):
        text = (REPO / "examples" / "specs" / f"{name}.yaml").read_text()
        text = text.replace("source: local", "source: bigquery")
        if name == "penguins-sex":  # trains on the last 90 days before the snapshot
            text = text.replace("END AS is_male\n", "END AS is_male, date_egg\n").replace(
                "  local:\n", "  window: 90d\n  time_column: date_egg\n  local:\n"
            )
        (specs_dir / f"{name}.yaml").write_text(text)
        schema = f"{name}.schema.pbtxt"
        (specs_dir / schema).write_text((REPO / "examples" / "specs" / schema).read_text())
    out = tmp_path / "out"
    compile_specs(PIPELINE_ENV, sorted(specs_dir.glob("*.yaml")), out, OPTIONS)

    def task_parameters(name: str, task: str) -> dict[str, str]:
        spec = json.loads((out / f"{name}.json").read_text())["pipelineSpec"]
        parameters = spec["root"]["dag"]["tasks"][task]["inputs"]["parameters"]
        return {
            key: value["runtimeValue"]["constantValue"]["stringValue"]
            for key, value in parameters.items()
            if "stringValue" in value.get("runtimeValue", {}).get("constantValue", {})
        }

    eval_config = json.loads(task_parameters("penguins-species", "Evaluator")["eval_config"])
    specs = eval_config["metrics_specs"]
    assert [m["class_name"] for m in specs[0]["metrics"]] == [
        "SparseCategoricalAccuracy",
        "ExampleCount",
        "MultiClassConfusionMatrixAtThresholds",  # reported, never gated
    ]
    assert "per_slice_thresholds" not in specs[0]["metrics"][2]
    macro = specs[1]
    assert [m["class_name"] for m in macro["metrics"]] == ["F1Score", "Recall"]
    assert macro["aggregate"]["macro_average"] is True
    assert sorted(macro["aggregate"]["class_weights"]) == ["0", "1", "2"]
    assert "per_slice_thresholds" in macro["metrics"][0]  # macro_f1 is gated
    assert "per_slice_thresholds" not in macro["metrics"][1]  # macro_recall is not
    per_class = specs[2]
    assert per_class["binarize"]["class_ids"]["values"] == [0, 1, 2]
    assert all("per_slice_thresholds" not in m for m in per_class["metrics"])

    # On Vertex the rows a local run drops (no label) are filtered by the query itself.
    input_config = json.loads(task_parameters("penguins-sex", "BigQueryExampleGen")["input_config"])
    query = input_config["splits"][0]["pattern"]
    assert query.startswith("SELECT * FROM (SELECT species, island")
    assert query.endswith("WHERE NOT (is_male IS NULL)")
    # ... and read the table as of the run's data snapshot, a runtime parameter of the step.
    assert "FOR SYSTEM_TIME AS OF '@@retrain_data_snapshot@@'" in query
    assert (
        "AS retrain_window WHERE CAST(date_egg AS TIMESTAMP) > "
        "TIMESTAMP_SUB('@@retrain_data_snapshot@@', INTERVAL '7776000' SECOND) "
        "AND CAST(date_egg AS TIMESTAMP) <= '@@retrain_data_snapshot@@'"
    ) in query
    spec = json.loads((out / "penguins-sex.json").read_text())["pipelineSpec"]
    example_gen = spec["root"]["dag"]["tasks"]["BigQueryExampleGen"]
    assert example_gen["inputs"]["parameters"]["data_snapshot"] == {
        "componentInputParameter": "data_snapshot"
    }
    assert example_gen["cachingOptions"] == {"enableCache": True}
    executor = spec["deploymentSpec"]["executors"]["BigQueryExampleGen_executor"]
    assert "pipelines.components.bigquery.Executor" in executor["container"]["args"]
