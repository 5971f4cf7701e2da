"""Compile specs to Vertex pipeline templates with KubeflowV2DagRunner (pipeline environment).

Called by `retrain compile`, which decides what changed; this module compiles every spec it
is given in one process, so TFX is imported once however many specs there are.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from retrain.spec import load_spec


def compile_spec(
    spec_path: str, out: Path, pipeline_root: str, image: str, serving_root: str
) -> Path:
    from tfx import v1 as tfx

    from pipelines.factory import PipelineTarget, create_pipeline

    spec = load_spec(spec_path)
    target = PipelineTarget(
        orchestrator="vertex",
        pipeline_root=f"{pipeline_root.rstrip('/')}/{spec.name}",
        serving_dir=f"{serving_root.rstrip('/')}/{spec.name}",
        repo_root=Path("."),
        beam_args=("--allow_unsafe_triggers",),
    )
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=str(out),
        output_filename=f"{spec.name}.json",
    )
    runner.run(create_pipeline(spec, target), write_out=True)
    path = out / f"{spec.name}.json"
    # Rewrite with sorted keys: byte-identical output for identical input.
    path.write_text(json.dumps(json.loads(path.read_text()), indent=2, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--pipeline-root", required=True)
    parser.add_argument("--serving-root", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("specs", nargs="+")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for spec_path in args.specs:
        started = time.monotonic()
        path = compile_spec(spec_path, out, args.pipeline_root, args.image, args.serving_root)
        print(f"compiled: {path} {time.monotonic() - started:.2f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
