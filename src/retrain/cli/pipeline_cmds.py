"""`retrain run` (local TFX run) and `retrain compile` (Vertex templates)."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from retrain.cli.parsers import add_command
from retrain.errors import ConfigError, RetrainError
from retrain.pipeline_env.compile import PLACEHOLDER_OPTIONS, CompileOptions, compile_specs
from retrain.pipeline_env.local_run import run_local
from retrain.pipeline_env.process import echo
from retrain.report.digest import describe
from retrain.runs import NOT_BLESSED_EXIT, RUNTIME_PARAMETERS
from retrain.settings import Settings
from retrain.spec import Spec, load_spec, spec_files, spec_paths
from retrain.summary import read_summary
from retrain.wiring import build_pipeline_env

DEFAULT_WORKDIR = "work"
DEFAULT_OUT = "build/pipelines"


def register(subparsers: Any) -> None:
    run = add_command(
        subparsers,
        "run",
        "run a spec's pipeline locally (LocalDagRunner, SQLite ML Metadata)",
        "retrain run churn --local --workdir work",
        "retrain run specs/house-prices.yaml --local --trigger pull_request --pr-number 12",
        "retrain run churn --local --from-template",
        description="Exit status: 0 the candidate is blessed, "
        f"{NOT_BLESSED_EXIT} it ran but is NOT BLESSED (a threshold failed), 1 an invalid "
        "spec, 2 any other error (data, pipeline). The run is recorded under "
        "WORKDIR/_jobs/<run id>/ where `retrain status`, `lineage` and `inventory` read it.",
    )
    run.add_argument("spec", help="spec name (looked up in specs/) or path to a spec file")
    run.add_argument("--local", action="store_true", help="run here with TFX's LocalDagRunner")
    run.add_argument(
        "--from-template",
        action="store_true",
        help="with --local: compile the spec as the merge build does and execute the compiled "
        "JSON task by task, as Vertex would (instead of LocalDagRunner)",
    )
    run.add_argument("--workdir", default=DEFAULT_WORKDIR, help="where runs keep their files")
    for name in RUNTIME_PARAMETERS:
        run.add_argument(
            f"--{name.replace('_', '-')}", default="", help=f"runtime parameter {name}"
        )
    run.set_defaults(handler=_run)

    compile_ = add_command(
        subparsers,
        "compile",
        "compile specs to Vertex pipeline templates (skips unchanged specs)",
        "retrain compile --out build/pipelines",
        "retrain compile specs/churn.yaml --image REGION-docker.pkg.dev/P/R/pipelines@sha256:D",
    )
    compile_.add_argument("specs", nargs="*", default=["specs"], help="spec files or dirs")
    compile_.add_argument("--out", default=DEFAULT_OUT, help=f"output dir (default {DEFAULT_OUT})")
    compile_.add_argument(
        "--pipeline-root",
        default="",
        help="GCS root for run artefacts (env RETRAIN_PIPELINE_ROOT)",
    )
    compile_.add_argument(
        "--serving-root",
        default="",
        help="GCS root the Pusher writes blessed models to (env RETRAIN_SERVING_ROOT)",
    )
    compile_.add_argument(
        "--image",
        default="",
        help="container image with TFX and this repository (env RETRAIN_PIPELINE_IMAGE)",
    )
    for flag, env, what in (
        ("--project", "RETRAIN_PROJECT", "project of BigQuery reads, Dataflow and training jobs"),
        ("--region", "RETRAIN_REGION", "region of Dataflow and Vertex AI training jobs"),
        ("--service-account", "RETRAIN_SERVICE_ACCOUNT", "Dataflow workers and training run as"),
    ):
        compile_.add_argument(flag, default="", help=f"{what} (env {env})")
    compile_.add_argument(
        "--bigquery-temp-dataset",
        default="",
        help="PROJECT.DATASET where BigQuery reads write query results (default: "
        "PROJECT.retrain_tmp; candidate runs: PROJECT.retrain_candidates_tmp)",
    )
    compile_.add_argument(
        "--no-vertex-training",
        action="store_true",
        help="the Trainer trains in its step even when a spec sets resources.training "
        "(candidate runs)",
    )
    compile_.add_argument(
        "--no-dataflow",
        action="store_true",
        help="Beam components run in their step even when a spec asks for Dataflow "
        "(candidate runs)",
    )
    compile_.add_argument("--force", action="store_true", help="compile even when unchanged")
    compile_.set_defaults(handler=_compile)


def resolve_spec(reference: str, repo: Path) -> tuple[Spec, Path]:
    """A spec by path, or by name from the repository's specs/ directory."""
    path = Path(reference)
    if not path.exists() and re.fullmatch(r"[a-z0-9-]+", reference):
        specs = repo / "specs"
        named = [p for p in spec_files(specs) if p.stem == reference]
        path = named[0] if named else specs / f"{reference}.yaml"
    if not path.exists():
        raise RetrainError(f"no spec {reference!r} (looked for {path})")
    return load_spec(path), path


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.local:
        print(
            "retrain run: only --local runs start from the command line; cloud runs are "
            "submitted by the service (see `retrain route`)",
            file=sys.stderr,
        )
        return 2
    env = build_pipeline_env(settings)
    spec, path = resolve_spec(args.spec, env.repo_root)
    values = {name: getattr(args, name) for name in RUNTIME_PARAMETERS}
    how = "from its compiled template" if args.from_template else "locally"
    echo(f"running {spec.name} (version {spec.fingerprint()}) {how} in {args.workdir}/")
    summary_file = run_local(env, spec, path, Path(args.workdir), values, args.from_template)
    summary = read_summary(summary_file)
    echo(describe(summary, str(summary_file)))
    echo(
        f"  recorded as job {summary.run.run_id} in {args.workdir}/_jobs/: see "
        f"`retrain status {spec.name} --workdir {args.workdir}`"
    )
    return 0 if summary.blessed else NOT_BLESSED_EXIT


def _compile_options(args: argparse.Namespace, configured: Settings) -> CompileOptions:
    """Flags first, then RETRAIN_* settings, then placeholders for a machine deploying nothing."""
    try:
        return CompileOptions(
            pipeline_root=args.pipeline_root
            or configured.pipeline_root
            or PLACEHOLDER_OPTIONS.pipeline_root,
            serving_root=args.serving_root
            or configured.serving_root
            or PLACEHOLDER_OPTIONS.serving_root,
            image=args.image or configured.pipeline_image or PLACEHOLDER_OPTIONS.image,
            project=args.project or configured.project,
            region=args.region or configured.region,
            service_account=args.service_account or configured.service_account,
            bigquery_temp_dataset=args.bigquery_temp_dataset,
            dataflow=not args.no_dataflow,
            vertex_training=not args.no_vertex_training,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"--{str(e['loc'][0]).replace('_', '-')}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(problems) from None


def _compile(args: argparse.Namespace, settings: Settings) -> int:
    paths = spec_paths(args.specs)
    options = _compile_options(args, settings)
    started = time.monotonic()
    env = build_pipeline_env(settings)
    compiled, unchanged = compile_specs(env, paths, Path(args.out), options, args.force)
    echo(
        f"{len(compiled)} compiled, {len(unchanged)} unchanged in {time.monotonic() - started:.1f}s"
    )
    return 0
