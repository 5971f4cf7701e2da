"""`retrain demo`: the product on one machine, narrated step by step."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

from retrain.cli.pipeline_cmds import compile_specs, describe, resolve_spec, run_local
from retrain.compile_plan import CompileOptions
from retrain.pipeline_env import echo, repo_root
from retrain.spec import load_specs, spec_paths
from retrain.summary import read_summary


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="validate the specs, compile them and run the example pipeline locally",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  retrain demo --spec churn --workdir work/demo",
    )
    demo.add_argument("--spec", default="churn", help="which example spec to run")
    demo.add_argument("--workdir", default="work/demo", help="wiped at the start")
    demo.set_defaults(handler=_demo)


def _step(number: int, text: str) -> float:
    echo(f"\n[{number}] {text}")
    return time.monotonic()


def _done(started: float) -> None:
    echo(f"    done in {time.monotonic() - started:.1f}s")


def _demo(args: argparse.Namespace) -> int:
    root = repo_root()
    workdir = Path(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)

    started = _step(1, "validate every spec in specs/")
    for spec in load_specs(spec_paths([root / "specs"])):
        echo(f"    ok {spec.name} ({spec.task}, version {spec.fingerprint()})")
    _done(started)

    started = _step(2, "compile the specs to Vertex templates (build/pipelines/)")
    options = CompileOptions(
        pipeline_root="gs://retrain-artifacts/pipelines",
        serving_root="gs://retrain-artifacts/serving",
        image="retrain-pipelines:local",
    )
    compile_specs(spec_paths([root / "specs"]), root / "build" / "pipelines", options)
    _done(started)

    spec, path = resolve_spec(args.spec)
    started = _step(3, f"run {spec.name} locally with TFX (LocalDagRunner, SQLite metadata)")
    summary_file = run_local(
        spec, path, workdir, {"run_id": f"{spec.name}-demo-1", "trigger": "manual"}
    )
    _done(started)

    echo(f"\n[4] evaluation summary ({summary_file})")
    echo(describe(read_summary(summary_file)))
    return 0
