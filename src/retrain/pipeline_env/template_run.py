"""Executing a compiled pipeline template here, task by task, the way Vertex Pipelines does.

What Cloud Build publishes and Vertex runs is not the TFX pipeline object that LocalDagRunner
walks but its compiled JSON (PipelineSpec schema 2.0.0): a DAG of tasks, each a container
`command` + `args` with the `{{$}}` executor-input placeholder, runtime parameters wired to
task inputs, and an Importer for production's model. This module plays Vertex's part over
that JSON and nothing else: it orders the tasks by their dependencies, builds each task's
executor input from the IR (parameters, input artefacts as their producers left them, output
URIs under the job's output directory, the output file), runs the task's own command in the
pipeline environment (the one built from the image's lock), reads the executor output back and
hands its artefacts on. So a placeholder, a runtime parameter that never reaches its task, an
Importer that refuses its URI or an executor class that does not import fails here, naming
the task, instead of on Vertex one paid run later.

Why not `kfp.local` (kfp 2.7, in the pipeline environment): its subprocess runner refuses
container components, its Docker runner needs Docker, and it rebuilds artefacts through KFP's
own `dsl` types, which drop TFX's `instanceSchema` types; a walk of our own over the IR is
about as long and sends what Vertex sends.

One task is not run as published: the ExampleGen reads the run's snapshot of the local table
(the rows DuckDB selects for local runs) with TFX's CSV executor, into the same output config,
because BigQuery cannot be reached offline; every task after it runs as compiled.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrain.errors import PipelineError
from retrain.pipeline_env.process import PipelineEnv

# The Vertex/KFP v2 container contract (pipeline_spec.proto, PipelineContainerSpec): the whole
# ExecutorInput, as JSON, replaces this placeholder in `command` and `args`.
EXECUTOR_INPUT = "{{$}}"
_OTHER_PLACEHOLDER = re.compile(r"\{\{\$[^}]*\}\}")
# TFX's entry point for every container task of a compiled TFX pipeline.
TFX_ENTRY = "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
EXECUTOR_CLASS_FLAG = "--executor_class_path"
CSV_EXECUTOR = "tfx.components.example_gen.csv_example_gen.executor.Executor"
EXAMPLE_GEN_EXECUTORS = (
    "pipelines.components.bigquery.Executor",
    CSV_EXECUTOR,
)
# pipeline_spec.proto, ValueOrRuntimeParameter / Value (schema 2.0.0 carries typed values).
_VALUE_KINDS = ("stringValue", "intValue", "doubleValue")


class TemplateError(PipelineError):
    """The template cannot run as written; the message names the task at fault."""


@dataclass(frozen=True)
class TemplateTask:
    """One task of the root DAG with its component and executor."""

    name: str
    task: dict[str, Any]
    component: dict[str, Any]
    executor: dict[str, Any]

    @property
    def upstream(self) -> set[str]:
        """Tasks this one waits for: named dependencies and every producer of its inputs."""
        found = set(self.task.get("dependentTasks", []))
        for given in self.task.get("inputs", {}).get("artifacts", {}).values():
            producer = given.get("taskOutputArtifact", {}).get("producerTask")
            if producer:
                found.add(producer)
        return found

    @property
    def executor_class(self) -> str:
        args = self.executor.get("container", {}).get("args", [])
        for flag, value in itertools.pairwise(args):
            if flag == EXECUTOR_CLASS_FLAG:
                return str(value)
        return ""


def _pipeline_spec(template: Mapping[str, Any]) -> dict[str, Any]:
    """The PipelineSpec: the template itself, or inside a PipelineJob as TFX writes it."""
    spec = template.get("pipelineSpec", template)
    if not isinstance(spec, dict) or "root" not in spec or "deploymentSpec" not in spec:
        raise TemplateError("not a compiled pipeline: no root DAG or deployment spec")
    return spec


def tasks_in_order(template: Mapping[str, Any]) -> list[TemplateTask]:
    """Every task of the root DAG after the tasks it depends on (ties by name, so the order
    is the same on every run); a reference to a missing component, executor or task fails."""
    spec = _pipeline_spec(template)
    components = spec.get("components", {})
    executors = spec["deploymentSpec"].get("executors", {})
    tasks: dict[str, TemplateTask] = {}
    for name, task in spec["root"].get("dag", {}).get("tasks", {}).items():
        ref = task.get("componentRef", {}).get("name", "")
        if ref not in components:
            raise TemplateError(f"task {name}: component {ref!r} is not in the template")
        label = components[ref].get("executorLabel", "")
        if label not in executors:
            raise TemplateError(f"task {name}: executor {label!r} is not in the template")
        tasks[name] = TemplateTask(name, task, components[ref], executors[label])
    for task in tasks.values():
        missing = task.upstream - set(tasks)
        if missing:
            raise TemplateError(f"task {task.name}: depends on unknown tasks {sorted(missing)}")
    ordered: list[TemplateTask] = []
    done: set[str] = set()
    while len(ordered) < len(tasks):
        ready = sorted(n for n, t in tasks.items() if n not in done and t.upstream <= done)
        if not ready:
            raise TemplateError(f"tasks {sorted(set(tasks) - done)} depend on each other")
        for name in ready:
            ordered.append(tasks[name])
            done.add(name)
    return ordered


def root_parameters(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
    """The job's runtime parameters: each the template declares, from `given`, else the
    template's default; one it does not declare, or a declared one without a value, is refused
    as Vertex refuses the job (pipeline_spec.proto, ComponentInputsSpec; runtimeConfig)."""
    spec = _pipeline_spec(template)
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(f"the template declares no runtime parameters {unknown}")
    defaults = template.get("runtimeConfig", {}).get("parameters", {})
    values: dict[str, str] = {}
    for name in declared:
        if name in given:
            values[name] = given[name]
        elif name in defaults:
            values[name] = str(_plain(defaults[name]))
        else:
            raise TemplateError(f"runtime parameter {name} has no value and no default")
    return values


def _plain(value: Mapping[str, Any]) -> Any:
    for kind in _VALUE_KINDS:
        if kind in value:
            return value[kind]
    raise TemplateError(f"a constant of no known kind: {sorted(value)}")


def task_parameters(task: TemplateTask, job: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The task's parameters as typed values (executor input `parameters`), each from a
    runtime parameter or a constant; every parameter the component declares must get one."""
    values: dict[str, dict[str, Any]] = {}
    for name, given in task.task.get("inputs", {}).get("parameters", {}).items():
        if "componentInputParameter" in given:
            source = given["componentInputParameter"]
            if source not in job:
                raise TemplateError(
                    f"task {task.name}: parameter {name} reads runtime parameter {source!r}, "
                    "which the template does not declare"
                )
            values[name] = {"stringValue": job[source]}
        elif "runtimeValue" in given:
            constant = given["runtimeValue"].get("constantValue", {})
            if not any(kind in constant for kind in _VALUE_KINDS):
                raise TemplateError(f"task {task.name}: parameter {name} has no constant value")
            values[name] = dict(constant)
        else:
            raise TemplateError(
                f"task {task.name}: parameter {name}: {sorted(given)} is not supported here"
            )
    declared = task.component.get("inputDefinitions", {}).get("parameters", {})
    missing = sorted(set(declared) - set(values))
    if missing:
        raise TemplateError(f"task {task.name}: no value for parameters {missing}")
    return values


def task_inputs(
    task: TemplateTask, produced: Mapping[str, Mapping[str, list[dict[str, Any]]]]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Input artefacts as their producers' executor outputs left them (URI and metadata)."""
    inputs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, given in task.task.get("inputs", {}).get("artifacts", {}).items():
        source = given.get("taskOutputArtifact", {})
        producer, key = source.get("producerTask", ""), source.get("outputArtifactKey", "")
        found = produced.get(producer, {}).get(key)
        if found is None:
            raise TemplateError(
                f"task {task.name}: input {name} reads output {key!r} of task {producer!r}, "
                "which it did not produce"
            )
        inputs[name] = {"artifacts": found}
    return inputs


def artifact_name(task_root: str, key: str) -> str:
    """A name in the form of Vertex ML Metadata's artefact resource names (TFX hashes it into
    the artefact id, and names the blessed model by it)."""
    digest = hashlib.sha256(f"{task_root}/{key}".encode()).hexdigest()[:20]
    return f"projects/local/locations/local/metadataStores/default/artifacts/{digest}"


def executor_input(
    task: TemplateTask,
    parameters: Mapping[str, dict[str, Any]],
    inputs: Mapping[str, dict[str, list[dict[str, Any]]]],
    task_root: str,
) -> dict[str, Any]:
    """The ExecutorInput Vertex hands the task (pipeline_spec.proto, ExecutorInput). Schema
    2.0.0 templates get typed `parameters`: TFX's entry point reads those unless it is given
    an inputs spec, which compiled TFX templates do not pass (kubeflow_v2_run_executor.py)."""
    outputs = {
        key: {
            "artifacts": [
                {
                    "name": artifact_name(task_root, key),
                    "type": definition["artifactType"],
                    "uri": f"{task_root}/{key}",
                    "metadata": {},
                }
            ]
        }
        for key, definition in task.component.get("outputDefinitions", {})
        .get("artifacts", {})
        .items()
    }
    return {
        "inputs": {"parameters": dict(parameters), "artifacts": dict(inputs)},
        "outputs": {"artifacts": outputs, "outputFile": f"{task_root}/executor_output.json"},
    }


def imported(task: TemplateTask, parameters: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """An Importer's one output: the URI its `artifactUri` names, typed as its schema says."""
    importer = task.executor["importer"]
    source = importer.get("artifactUri", {})
    if "runtimeParameter" in source:
        given = parameters.get(source["runtimeParameter"])
        if given is None:
            raise TemplateError(
                f"task {task.name}: importer URI parameter {source['runtimeParameter']!r} "
                "is not an input of the task"
            )
        uri = str(_plain(given))
    else:
        uri = str(_plain(source.get("constantValue", source)))
    if not uri:
        raise TemplateError(f"task {task.name}: importer URI is empty")
    (key,) = task.component.get("outputDefinitions", {}).get("artifacts", {}) or ["result"]
    return {
        key: [
            {
                "name": artifact_name(f"imported/{task.name}", uri),
                "type": importer.get("typeSchema", {}),
                "uri": uri,
                "metadata": importer.get("metadata", {}),
            }
        ]
    }


def with_local_examples(
    task: TemplateTask, parameters: dict[str, dict[str, Any]], csv: Path
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The ExampleGen's args and parameters reading `csv` with TFX's CSV executor into the
    template's own output config (split, formats); BigQuery cannot be reached offline."""
    args = list(task.executor["container"]["args"])
    args[args.index(EXECUTOR_CLASS_FLAG) + 1] = CSV_EXECUTOR
    splits = {"splits": [{"name": "single_split", "pattern": csv.name}]}
    return args, {
        **parameters,
        "input_base": {"stringValue": str(csv.parent)},
        "input_config": {"stringValue": json.dumps(splits)},
    }


# The pipeline image's WORKDIR, where it holds this repository (docker/pipelines.Dockerfile):
# paths a template names under it (the checked-in schema) are this checkout's.
IMAGE_WORKDIR = "/pipeline/"


def in_checkout(
    parameters: dict[str, dict[str, Any]], repo_root: Path
) -> dict[str, dict[str, Any]]:
    """Parameters naming a file of the image's WORKDIR, pointed at the same file here."""
    return {
        name: (
            {"stringValue": str(repo_root / value["stringValue"].removeprefix(IMAGE_WORKDIR))}
            if str(value.get("stringValue", "")).startswith(IMAGE_WORKDIR)
            else value
        )
        for name, value in parameters.items()
    }


TaskRunner = Callable[[TemplateTask, list[str], Path], None]


def run_in_pipeline_env(env: PipelineEnv, logs: Path) -> TaskRunner:
    """Runs a task's command as the image would (its Python, from the checkout)."""

    def run(task: TemplateTask, command: list[str], task_dir: Path) -> None:
        if command[:3] != ["python", "-m", TFX_ENTRY]:
            raise TemplateError(
                f"task {task.name}: command {command[:3]} is not TFX's container entry point"
            )
        try:
            env.run_module(TFX_ENTRY, command[3:], logs / f"{task.name}.log", lambda _: None)
        except PipelineError as exc:
            raise TemplateError(
                f"task {task.name} ({task.executor_class or 'no executor class'}) failed: {exc}"
            ) from None

    return run


@dataclass(frozen=True)
class TemplateJob:
    """Where a template run writes and what it reads from this machine."""

    output_dir: Path  # the PipelineJob's output directory (runtimeConfig.gcsOutputDirectory)
    examples_csv: Path  # the rows ExampleGen reads: the run's snapshot of the local table
    repo_root: Path  # the checkout, standing in for the image's WORKDIR


def run_template(
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    where: TemplateJob,
    run_task: TaskRunner,
    on_progress: Callable[[str], None],
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Run every task of `template` in order; return each task's output artefacts."""
    job = root_parameters(template, parameters)
    ordered = tasks_in_order(template)
    produced: dict[str, dict[str, list[dict[str, Any]]]] = {}
    job_dir = where.output_dir / job.get("run_id", "job")
    cache = where.output_dir / ".cache"
    for number, task in enumerate(ordered, 1):
        started = time.monotonic()
        on_progress(f"[{number}/{len(ordered)}] {task.name} running")
        values = in_checkout(task_parameters(task, job), where.repo_root)
        if "importer" in task.executor:
            produced[task.name] = imported(task, values)
            reused = False
        elif "container" in task.executor:
            inputs = task_inputs(task, produced)
            read = ""  # the rows an ExampleGen reads, by content: its path may be reused
            if task.executor_class in EXAMPLE_GEN_EXECUTORS:
                args, values = with_local_examples(task, values, where.examples_csv)
                read = hashlib.sha256(where.examples_csv.read_bytes()).hexdigest()
            else:
                args = list(task.executor["container"].get("args", []))
            key = cache / f"{cache_key(task, args, values, inputs, read)}.json"
            reused = task.task.get("cachingOptions", {}).get("enableCache", False) and key.is_file()
            if reused:
                produced[task.name] = json.loads(key.read_text())
            else:
                produced[task.name] = _run_container(
                    task, args, values, inputs, job_dir / task.name, run_task
                )
                key.parent.mkdir(parents=True, exist_ok=True)
                key.write_text(json.dumps(produced[task.name]))
        else:
            raise TemplateError(f"task {task.name}: executor kind {sorted(task.executor)}")
        took = (
            "reused from an earlier run (cached)"
            if reused
            else f"{time.monotonic() - started:.1f}s"
        )
        on_progress(f"[{number}/{len(ordered)}] {task.name} done in {took}")
    return produced


def cache_key(
    task: TemplateTask,
    args: list[str],
    values: Mapping[str, dict[str, Any]],
    inputs: Mapping[str, dict[str, list[dict[str, Any]]]],
    read: str,
) -> str:
    """What Vertex's execution cache matches a task on: its component, its container, its
    parameters and its input artefacts; the same key reuses the earlier outputs."""
    payload = {
        "read": read,
        "component": task.component,
        "command": task.executor["container"].get("command", []),
        "args": args,
        "parameters": values,
        "inputs": {
            name: [(a["uri"], a.get("metadata", {})) for a in entry["artifacts"]]
            for name, entry in inputs.items()
        },
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _run_container(
    task: TemplateTask,
    args: list[str],
    values: dict[str, dict[str, Any]],
    inputs: dict[str, dict[str, list[dict[str, Any]]]],
    task_dir: Path,
    run_task: TaskRunner,
) -> dict[str, list[dict[str, Any]]]:
    planned = executor_input(task, values, inputs, str(task_dir))
    for entry in planned["outputs"]["artifacts"].values():  # GCS has no directories to make
        Path(entry["artifacts"][0]["uri"]).mkdir(parents=True, exist_ok=True)
    payload = json.dumps(planned)
    command = [
        payload if part == EXECUTOR_INPUT else part
        for part in [*task.executor["container"].get("command", []), *args]
    ]
    other = [p for p in command if p != payload and _OTHER_PLACEHOLDER.search(p)]
    if other:
        raise TemplateError(f"task {task.name}: placeholders this runner does not fill: {other}")
    if payload not in command:
        raise TemplateError(f"task {task.name}: its command never takes the executor input")
    run_task(task, command, task_dir)
    return _outputs(task_dir, planned["outputs"]["artifacts"])


def _outputs(
    task_dir: Path, planned: Mapping[str, dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """The task's artefacts as its executor output states them (URI, metadata such as an
    Examples' split names), typed as the component declares; planned ones otherwise."""
    path = task_dir / "executor_output.json"
    written = json.loads(path.read_text()).get("artifacts", {}) if path.exists() else {}
    outputs: dict[str, list[dict[str, Any]]] = {}
    for key, entry in planned.items():
        (plan,) = entry["artifacts"]
        given = written.get(key, {}).get("artifacts") or [{}]
        outputs[key] = [
            {**plan, **{k: v for k, v in one.items() if k in ("uri", "metadata")}} for one in given
        ]
    return outputs
