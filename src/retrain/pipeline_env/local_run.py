"""A local TFX run of one spec: select the training rows, start the pipeline environment,
stream its progress, and return where the run wrote its evaluation summary.

The CLI (`retrain run`) and the local run backend's child processes come through here; tests
call it directly.
"""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

from pydantic import ValidationError

from retrain.backends.local import finish_own_run, record_own_run
from retrain.baseline import ProductionBaselines
from retrain.blobs import Blobs
from retrain.data.local import facts_path, snapshot_input
from retrain.errors import PipelineError, RetrainError, SpecError
from retrain.pipeline_env.compile import PLACEHOLDER_OPTIONS, CompileOptions, compile_specs
from retrain.pipeline_env.process import PipelineEnv, echo
from retrain.pipeline_env.template_run import TemplateJob, run_in_pipeline_env, run_template
from retrain.runs import (
    RUNTIME_PARAMETERS,
    Baseline,
    LocalLayout,
    RunRequest,
    data_window,
    snapshot_time,
)
from retrain.spec import Spec
from retrain.spec.tfschema import schema_problems
from retrain.summary import summary_path

LOCAL_IMAGE = "retrain-pipelines:local"  # a template run here executes in .venv-pipelines


def default_run_id(spec: Spec) -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{spec.name}-manual-{stamp}"


BASELINE_PARAMETERS = ("baseline_uri", "baseline_version", "baseline_reason")


def local_baselines(workdir: Path) -> ProductionBaselines:
    """Production's model among the local runs of a work directory."""
    root = workdir.resolve()
    return ProductionBaselines(
        lambda name: str(LocalLayout(workdir=root, spec=name).pipeline_root), Blobs()
    )


def run_local(
    env: PipelineEnv,
    spec: Spec,
    spec_path: Path,
    workdir: Path,
    values: dict[str, str],
    from_template: bool = False,
) -> Path:
    """Run the pipeline; return the summary path. Progress lines stream to stdout.

    Without a baseline from the submitter (the local backend resolves one from the default
    branch's spec), production is the run this spec file's `promotion.version` names.
    `from_template`: compile the spec as Cloud Build does and execute the compiled JSON task
    by task (`retrain.pipeline_env.template_run`) instead of LocalDagRunner's pipeline."""
    problems = schema_problems(spec, spec_path)
    if problems:
        raise SpecError(problems)
    layout = LocalLayout(workdir=workdir.resolve(), spec=spec.name)
    if not any(values.get(name) for name in BASELINE_PARAMETERS):
        baseline = local_baselines(workdir)(spec)
        values = {
            **values,
            "baseline_uri": baseline.uri,
            "baseline_version": baseline.version,
            "baseline_reason": baseline.reason,
        }
    echo(
        f"  baseline: production {values['baseline_version']}"
        if values.get("baseline_uri")
        else f"  baseline: none ({values.get('baseline_reason') or 'not given'})"
    )
    run_id = values.get("run_id") or default_run_id(spec)
    snapshot = values.get("data_snapshot") or snapshot_time(datetime.datetime.now(datetime.UTC))
    # the window this run reads, whatever the caller passed: data.window ending at the snapshot
    values = {
        **values,
        "data_snapshot": snapshot,
        "data_window": data_window(spec.data.window, snapshot),
    }
    request = _request(spec, run_id, values)
    # data problems stop here, before TFX and before the run is on the record
    input_csv = snapshot_input(spec, env.repo_root, layout.root, snapshot, spec_path)
    own = record_own_run(layout.workdir, request)
    try:
        if from_template:
            summary = _run_template(env, spec, spec_path, layout, request, input_csv)
        else:
            summary = _run(env, spec, spec_path, layout, run_id, input_csv, values)
    except BaseException as exc:
        if own:
            why = str(exc) if isinstance(exc, RetrainError) else f"stopped: {exc!r}"
            finish_own_run(layout.workdir, run_id, succeeded=False, error=why)
        raise
    if own:
        finish_own_run(layout.workdir, run_id, succeeded=True)
    return summary


def _request(spec: Spec, run_id: str, values: dict[str, str]) -> RunRequest:
    """The run as the local backend would have been asked for it: its record's labels."""
    try:
        return RunRequest.for_spec(
            spec,
            job_id=run_id,
            version=spec.fingerprint(),
            trigger=values.get("trigger") or "manual",  # type: ignore[arg-type]
            git_sha=values.get("git_sha", ""),
            snapshot=values["data_snapshot"],
            baseline=Baseline(
                version=values.get("baseline_version", ""),
                uri=values.get("baseline_uri", ""),
                reason=values.get("baseline_reason", ""),
            ),
            event_id=values.get("event_id", ""),
            pr_number=int(values["pr_number"]) if values.get("pr_number") else None,
        )
    except ValidationError as exc:
        wrong = sorted({"--" + str(e["loc"][0]).replace("_", "-") for e in exc.errors()})
        wrong = ["--run-id" if w == "--job-id" else w for w in wrong]
        raise PipelineError(
            f"{spec.name}: {', '.join(wrong)}: not a valid value (a run id is lowercase letters, "
            "digits and hyphens, starting with a letter; a trigger is one of pull_request, "
            "data_arrival, drift, schedule, manual)"
        ) from None
    except ValueError as exc:  # --pr-number
        raise PipelineError(f"{spec.name}: --pr-number: not a number: {exc}") from None


def _run(
    env: PipelineEnv,
    spec: Spec,
    spec_path: Path,
    layout: LocalLayout,
    run_id: str,
    input_csv: Path,
    values: dict[str, str],
) -> Path:
    snapshot = values["data_snapshot"]
    facts = json.loads(facts_path(input_csv).read_text())
    echo(
        f"  input: {facts['rows_snapshot']} rows of snapshot {snapshot} (the training query, "
        f"DuckDB over {spec.data.local.path}; sha256 {facts['sha256'][:12]})"
    )
    args = [
        "--input-csv",
        str(input_csv),
        "--spec",
        str(spec_path.resolve()),
        "--workdir",
        str(layout.workdir),
        "--repo-root",
        str(env.repo_root),
    ]
    for name in RUNTIME_PARAMETERS:
        value = run_id if name == "run_id" else values.get(name, "")
        args += [f"--{name.replace('_', '-')}", value]
    log = layout.root / "logs" / f"{run_id}.log"
    lines = env.run_module("pipelines.run_local", args, log, on_line=_progress_line)
    for line in lines:
        if line.startswith("summary: "):
            return Path(line.removeprefix("summary: "))
    raise PipelineError(f"the run printed no summary path; see {log}")


def _progress_line(line: str) -> None:
    if line.startswith("progress: "):
        echo("  " + line.removeprefix("progress: "))
    elif line.startswith(("finished in", "summary: ")):
        echo("  " + line)


def _run_template(
    env: PipelineEnv,
    spec: Spec,
    spec_path: Path,
    layout: LocalLayout,
    request: RunRequest,
    input_csv: Path,
) -> Path:
    """Compile the spec as the merge build does (for this machine: a local pipeline root, and
    the steps in their tasks as for candidate runs, no Dataflow or Vertex training), then run
    the compiled JSON with the parameters the Vertex backend would send."""
    out = layout.root / "template"
    options = CompileOptions(
        pipeline_root=str(layout.pipeline_root),
        serving_root=str(layout.serving_dir),
        image=LOCAL_IMAGE,
        project=PLACEHOLDER_OPTIONS.project,
        region=PLACEHOLDER_OPTIONS.region,
        dataflow=False,
        vertex_training=False,
    )
    compile_specs(env, [spec_path], out, options)
    template_file = out / f"{spec.name}.json"
    echo(f"  template: {template_file} (compiled JSON, executed task by task)")
    template = json.loads(template_file.read_text())
    logs = layout.root / "logs" / request.job_id
    run_template(
        template,
        request.parameters(),
        TemplateJob(
            output_dir=layout.pipeline_root / spec.name,
            examples_csv=input_csv,
            repo_root=env.repo_root,
        ),
        run_in_pipeline_env(env, logs),
        on_progress=lambda line: echo(f"  {line}"),
    )
    # The template writes under the job's root, `<pipeline root>/<spec>` as on Vertex; the
    # summary is filed where local runs keep theirs too, for `retrain status` and baselines.
    written = Path(summary_path(str(layout.pipeline_root / spec.name), request.job_id))
    if not written.is_file():
        raise PipelineError(f"the template run wrote no summary at {written}; see {logs}")
    summary = Path(summary_path(str(layout.pipeline_root), request.job_id))
    summary.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(written, summary)
    return summary
