"""Run one spec's pipeline with LocalDagRunner and SQLite ML Metadata (pipeline environment).

Called by `retrain run --local`. Prints one progress line per component on stdout, and a
final `summary: PATH` line; TensorFlow's own logging goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import logging
import os
import sys
import time
from pathlib import Path

from retrain.data.local import facts_path
from retrain.runs import RUNTIME_PARAMETERS, LocalLayout
from retrain.spec import load_spec
from retrain.spec.tfschema import schema_path
from retrain.summary import summary_path


class _Progress(logging.Handler):
    """Turns LocalDagRunner's 'Component X is running/finished' log records into progress lines."""

    def __init__(self, total: int) -> None:
        super().__init__(logging.INFO)
        self.total = total
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        node = str(record.args[0]) if isinstance(record.args, tuple) and record.args else ""
        if record.msg == "Component %s is running." and node:
            self.started[node] = time.monotonic()
            print(f"progress: [{len(self.started)}/{self.total}] {node} running", flush=True)
        elif record.msg == "Component %s is finished." and node:
            took = time.monotonic() - self.started.get(node, time.monotonic())
            print(
                f"progress: [{len(self.started)}/{self.total}] {node} done in {took:.1f}s",
                flush=True,
            )


def _schema_copy(schema: Path, root: Path) -> Path:
    """The schema at a path of its own content: ImportSchemaGen's cache key holds the file's
    path, not what it says, so an edited schema must not keep the path of the old one."""
    if not schema.is_file():
        return schema  # the factory's ImportSchemaGen fails naming it
    data = schema.read_bytes()
    copy = root / "schemas" / hashlib.sha256(data).hexdigest()[:16] / schema.name
    if not copy.exists():
        copy.parent.mkdir(parents=True, exist_ok=True)
        partial = copy.with_name(f".{copy.name}.{os.getpid()}")
        partial.write_bytes(data)
        partial.replace(copy)
    return copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--repo-root", default=".")
    parser.add_argument(
        "--input-csv", default="", help="rows to train on (default: the spec's file)"
    )
    parser.add_argument(
        "--direct-workers",
        type=int,
        default=1,
        help="Beam DirectRunner: 1 in memory (the default, faster here: docs/benchmarks.md); "
        "N > 1 multi-process with N workers (bench/scaling.py compares them)",
    )
    for name in RUNTIME_PARAMETERS:
        parser.add_argument(f"--{name.replace('_', '-')}", default="")
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    spec = load_spec(args.spec)
    layout = LocalLayout(workdir=Path(args.workdir).resolve(), spec=spec.name)
    layout.root.mkdir(parents=True, exist_ok=True)

    from tfx import v1 as tfx

    from pipelines.factory import LOCAL_BEAM_ARGS, PipelineTarget, create_pipeline

    values = {name: getattr(args, name) for name in RUNTIME_PARAMETERS}
    facts = facts_path(Path(args.input_csv)) if args.input_csv else None
    target = PipelineTarget(
        orchestrator="local",
        pipeline_root=str(layout.pipeline_root),
        serving_dir=str(layout.serving_dir),
        repo_root=Path(args.repo_root).resolve(),
        metadata_path=str(layout.metadata_path),
        run_values=values,
        input_csv=args.input_csv,
        schema_file=str(_schema_copy(schema_path(Path(args.spec)).resolve(), layout.root)),
        schema_source=str(schema_path(Path(args.spec)).resolve()),
        data_facts=facts.read_text() if facts is not None and facts.exists() else "",
        started_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        beam_args=LOCAL_BEAM_ARGS
        if args.direct_workers <= 1
        else (
            "--direct_running_mode=multi_processing",
            f"--direct_num_workers={args.direct_workers}",
            "--allow_unsafe_triggers",
        ),
    )
    pipeline = create_pipeline(spec, target)
    progress = _Progress(len(pipeline.components))
    logging.getLogger().addHandler(progress)
    logging.getLogger().setLevel(logging.INFO)
    # Something inside the Trainer raises absl's logger to WARNING mid-run, which would
    # silence the runner's per-component records; keep it at INFO for the progress lines.
    absl_logger = logging.getLogger("absl")
    absl_logger.setLevel(logging.INFO)
    absl_logger.setLevel = lambda level: None  # type: ignore[method-assign]
    started = time.monotonic()
    tfx.orchestration.LocalDagRunner().run(pipeline)
    path = summary_path(str(layout.pipeline_root), values["run_id"])
    if not Path(path).exists():
        print(f"error: the run ended without writing its summary at {path}", file=sys.stderr)
        return 1
    print(f"finished in {time.monotonic() - started:.1f}s", flush=True)
    print(f"summary: {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
