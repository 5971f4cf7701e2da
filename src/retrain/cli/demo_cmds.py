"""`retrain demo`: the product's story on the local stack, narrated step by step."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from retrain.cli.parsers import add_command
from retrain.data.samples import example_spec_files
from retrain.demo.observe import DemoError
from retrain.demo.story import DemoOptions, Story
from retrain.localstack.signals import Stopped, stop_on_signals
from retrain.pipeline_env.compile import PLACEHOLDER_OPTIONS, compile_specs
from retrain.pipeline_env.process import PipelineEnv, echo
from retrain.settings import Settings
from retrain.spec import load_specs
from retrain.wiring import build_pipeline_env


def register(subparsers: Any) -> None:
    demo = add_command(
        subparsers,
        "demo",
        "play the product's story on the local stack (emulators, functions, TFX runs)",
        "retrain demo --workdir work/demo",
        description="Validates and compiles the specs, starts the local stack, then: new rows "
        "start a run (and a duplicate delivery is deduplicated) that ends in a promotion PR; a "
        "PR's candidate run is compared with production in a comment; a drift alert is judged "
        "by the spec's policy. Exits 1 if any step did not happen as narrated.",
    )
    demo.add_argument("--spec", default="churn", help="the spec that gets data and a PR")
    demo.add_argument("--drift-spec", default="house-prices", help="the spec that drifts")
    demo.add_argument("--workdir", type=Path, default=Path("work/demo"), help="wiped first")
    demo.add_argument("--train-steps", type=int, help="fewer steps for a quicker run")
    demo.add_argument("--rows-scale", type=float, default=1.0, help="less data (e.g. 0.5)")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    """SIGINT, SIGTERM or SIGHUP at any moment stops whatever has started, then exits 128+N."""
    try:
        with stop_on_signals():
            return _play(args, build_pipeline_env(settings))
    except Stopped as stop:
        echo(f"\ndemo stopped on {stop.name}; everything it started was stopped")
        return stop.code


def _play(args: argparse.Namespace, env: PipelineEnv) -> int:
    root = env.repo_root
    started = time.monotonic()
    echo("[-] validate and compile the example specs (what CI does on every PR)")
    examples = example_spec_files(root / "specs")  # a user's own specs are not the demo's
    for spec in load_specs(examples):
        echo(f"    ok {spec.name} ({spec.task}, version {spec.fingerprint()})")
    compile_specs(env, examples, root / "build" / "pipelines", PLACEHOLDER_OPTIONS)
    echo(f"    ({time.monotonic() - started:.1f}s)")

    story = Story(
        DemoOptions(
            repo=root,
            pipelines_python=env.python,
            workdir=args.workdir,
            spec=args.spec,
            drift_spec=args.drift_spec,
            train_steps=args.train_steps,
            rows_scale=args.rows_scale,
        ),
        sys.stdout,
    )
    try:
        report = story.run()
    except DemoError as exc:
        echo(f"\ndemo FAILED: {exc}\n    logs: {story.logs_dir}; runs: {story.runs_dir / '_jobs'}")
        return 1
    echo(f"\ndemo {'passed' if report.ok else 'FAILED'} in {time.monotonic() - started:.0f}s")
    return 0 if report.ok else 1
