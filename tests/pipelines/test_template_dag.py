"""The walk over a compiled template (retrain.pipeline_env.template_run), checked on the
checked-in Vertex template (tests/delivery/fixtures/template.json, `make template-fixture`)
with a task runner that plays each executor by writing its executor output: the order, the
executor input each task gets, the Importer, the stand-in ExampleGen, the cache, and the
refusals, each naming the task. The real tasks run in tests/pipelines/test_template_run.py."""

from __future__ import annotations

import ast
import copy
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from retrain.pipeline_env.template_run import (
    CSV_EXECUTOR,
    EXECUTOR_CLASS_FLAG,
    TemplateError,
    TemplateJob,
    TemplateTask,
    root_parameters,
    run_template,
    tasks_in_order,
)
from retrain.runs import NO_BASELINE_URI
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "delivery" / "fixtures" / "template.json"
TEMPLATE: dict[str, Any] = json.loads(FIXTURE.read_text())
PARAMETERS = {
    "run_id": "house-prices-run-1",
    "trigger": "data_arrival",
    "git_sha": "",
    "pr_number": "",
    "event_id": "",
    "data_window": "",
    "data_snapshot": "2026-11-20T05:00:00Z",
    "baseline_uri": NO_BASELINE_URI,
    "baseline_version": "",
    "baseline_reason": "no model has been promoted yet",
    "spec_changes": "",
}


class PlayedTasks:
    """Each task's command and executor input; writes an executor output as TFX's entry
    point does (the planned URIs, with a split_names property on Examples)."""

    def __init__(self) -> None:
        self.commands: dict[str, list[str]] = {}
        self.inputs: dict[str, dict[str, Any]] = {}

    def __call__(self, task: TemplateTask, command: list[str], task_dir: Path) -> None:
        self.commands[task.name] = command
        given = json.loads(command[command.index("--json_serialized_invocation_args") + 1])
        self.inputs[task.name] = given
        written = copy.deepcopy(given["outputs"]["artifacts"])
        for entry in written.values():
            for artifact in entry["artifacts"]:
                if "tfx.Examples" in artifact["type"].get("instanceSchema", ""):
                    artifact["metadata"] = {"split_names": '["train", "eval"]'}
        Path(given["outputs"]["outputFile"]).write_text(json.dumps({"artifacts": written}))


def where(tmp_path: Path) -> TemplateJob:
    csv = tmp_path / "snapshot" / "house-prices.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    csv.write_text("floor_area_sqm,price_keur\n50,100\n")
    return TemplateJob(output_dir=tmp_path / "out", examples_csv=csv, repo_root=REPO)


def test_tasks_come_after_what_they_read() -> None:
    ordered = [task.name for task in tasks_in_order(TEMPLATE)]
    assert ordered[0] == "BigQueryExampleGen" and ordered[-1] == "EvaluationSummaryWriter"
    for task in tasks_in_order(TEMPLATE):
        assert task.upstream <= set(ordered[: ordered.index(task.name)]), task.name


def test_every_task_gets_its_executor_input_and_passes_artefacts_on(tmp_path: Path) -> None:
    played = PlayedTasks()
    produced = run_template(TEMPLATE, PARAMETERS, where(tmp_path), played, lambda _: None)
    assert set(produced) == {task.name for task in tasks_in_order(TEMPLATE)}
    # the placeholder is gone: the executor input is the argument after the flag
    assert all("{{$}}" not in part for cmd in played.commands.values() for part in cmd)
    trainer = played.inputs["Trainer"]["inputs"]
    # schema 2.0.0: typed parameters, which TFX's entry point reads without an inputs spec
    assert json.loads(trainer["parameters"]["train_args"]["stringValue"]) == {"num_steps": 400}
    # an artefact arrives with the metadata its producer's executor output gave it
    (examples,) = trainer["artifacts"]["examples"]["artifacts"]
    assert examples["metadata"] == {"split_names": '["train", "eval"]'}
    assert examples["uri"].endswith("house-prices-run-1/BigQueryExampleGen/examples")
    # the Importer hands the Evaluator the runtime parameter's URI, typed as a Model
    (baseline,) = played.inputs["Evaluator"]["inputs"]["artifacts"]["baseline_model"]["artifacts"]
    assert baseline["uri"] == NO_BASELINE_URI
    assert yaml.safe_load(baseline["type"]["instanceSchema"])["title"] == "tfx.Model"
    # the summary writer reads the run's own runtime parameters
    summary = played.inputs["EvaluationSummaryWriter"]["inputs"]["parameters"]
    assert summary["run_id"] == {"stringValue": "house-prices-run-1"}


def test_example_gen_reads_the_snapshot_with_the_csv_executor(tmp_path: Path) -> None:
    played, job = PlayedTasks(), where(tmp_path)
    run_template(TEMPLATE, PARAMETERS, job, played, lambda _: None)
    command = played.commands["BigQueryExampleGen"]
    assert command[command.index(EXECUTOR_CLASS_FLAG) + 1] == CSV_EXECUTOR
    parameters = played.inputs["BigQueryExampleGen"]["inputs"]["parameters"]
    assert parameters["input_base"] == {"stringValue": str(job.examples_csv.parent)}
    assert json.loads(parameters["input_config"]["stringValue"]) == {
        "splits": [{"name": "single_split", "pattern": "house-prices.csv"}]
    }
    # the template's own split is kept
    (split,) = [TEMPLATE["pipelineSpec"]["root"]["dag"]["tasks"]["BigQueryExampleGen"]]
    assert (
        parameters["output_config"]
        == split["inputs"]["parameters"]["output_config"]["runtimeValue"]["constantValue"]
    )


def test_files_of_the_image_workdir_are_read_from_the_checkout(tmp_path: Path) -> None:
    played = PlayedTasks()
    run_template(TEMPLATE, PARAMETERS, where(tmp_path), played, lambda _: None)
    schema = played.inputs["ImportSchemaGen"]["inputs"]["parameters"]["schema_file"]
    assert schema == {"stringValue": str(REPO / "specs" / "house-prices.schema.pbtxt")}


def test_a_rerun_reuses_cached_tasks_and_reruns_what_the_baseline_changes(
    tmp_path: Path,
) -> None:
    job = where(tmp_path)
    run_template(TEMPLATE, PARAMETERS, job, PlayedTasks(), lambda _: None)
    again = PlayedTasks()
    promoted = {**PARAMETERS, "run_id": "house-prices-run-2", "baseline_uri": "/models/7"}
    run_template(TEMPLATE, promoted, job, again, lambda _: None)
    assert set(again.commands) == {"Evaluator", "Pusher", "EvaluationSummaryWriter"}
    (baseline,) = again.inputs["Evaluator"]["inputs"]["artifacts"]["baseline_model"]["artifacts"]
    assert baseline["uri"] == "/models/7"


def test_runtime_parameters_are_checked_as_vertex_checks_them() -> None:
    with pytest.raises(TemplateError, match=r"declares no runtime parameters \['bogus'\]"):
        root_parameters(TEMPLATE, {**PARAMETERS, "bogus": "1"})
    short = {k: v for k, v in PARAMETERS.items() if k != "run_id"}
    with pytest.raises(TemplateError, match="runtime parameter run_id has no value"):
        root_parameters(TEMPLATE, short)


def _edited(edit: Any) -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    edit(template["pipelineSpec"])
    return template


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s["root"]["dag"]["tasks"]["Trainer"]["inputs"]["parameters"].update(
                run_fn={"componentInputParameter": "trainer_module"}
            ),
            "task Trainer: parameter run_fn reads runtime parameter 'trainer_module'",
        ),
        (
            lambda s: s["root"]["dag"]["tasks"]["Pusher"]["inputs"]["parameters"].pop(
                "push_destination"
            ),
            r"task Pusher: no value for parameters \['push_destination'\]",
        ),
        (
            lambda s: s["deploymentSpec"]["executors"]["Trainer_executor"]["container"][
                "args"
            ].append("{{$.inputs.parameters['run_fn']}}"),
            "task Trainer: placeholders this runner does not fill",
        ),
        (
            lambda s: s["root"]["dag"]["tasks"]["Evaluator"].update(
                dependentTasks=["Trainer", "Tuner"]
            ),
            r"task Evaluator: depends on unknown tasks \['Tuner'\]",
        ),
    ],
    ids=["undeclared-runtime-parameter", "missing-parameter", "placeholder", "unknown-task"],
)
def test_a_broken_template_is_refused_naming_the_task(
    tmp_path: Path, edit: Any, message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        run_template(_edited(edit), PARAMETERS, where(tmp_path), PlayedTasks(), lambda _: None)


def test_custom_artefact_types_import_by_their_schema_title() -> None:
    """On Vertex, TFX's entry point imports a custom type's schema title as a class path
    (kubeflow_v2_entrypoint_utils._retrieve_class_path); first-party types are `tfx.*`."""
    titles = {
        yaml.safe_load(artifact["artifactType"]["instanceSchema"])["title"]
        for component in TEMPLATE["pipelineSpec"]["components"].values()
        for side in ("inputDefinitions", "outputDefinitions")
        for artifact in component.get(side, {}).get("artifacts", {}).values()
    }
    custom = sorted(t for t in titles if not t.startswith("tfx."))
    assert custom, "the summary's own artefact type is in every template"
    for title in custom:
        package, name = title.rsplit(".", 1)
        types = getattr(importlib.import_module(package), "ARTIFACT_TYPES", {})
        assert name in types, f"{title} does not import"
        module, attribute = types[name]
        source = REPO / (module.replace(".", "/") + ".py")
        classes = {
            node.name: node
            for node in ast.walk(ast.parse(source.read_text()))
            if isinstance(node, ast.ClassDef)
        }
        assert attribute in classes, f"{module} defines no {attribute}"
        assert f'TYPE_NAME = "{title}"' in ast.unparse(classes[attribute]).replace("'", '"')
