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

from retrain.pipeline_env.compile import CompileOptions
from retrain.spec import load_spec
from retrain.spec.tfschema import schema_path


def compile_spec(
    spec_path: str, out: Path, options: CompileOptions, queries: dict[str, str] | None = None
) -> Path:
    from tfx import v1 as tfx

    from pipelines.cloud_args import CloudTarget
    from pipelines.factory import PipelineTarget, create_pipeline

    spec = load_spec(spec_path)
    cloud = CloudTarget(
        project=options.project,
        region=options.region,
        image=options.image,
        temp_location=options.temp_root,
        staging_location=options.staging_root,
        service_account=options.service_account,
        bigquery_temp_dataset=options.temp_dataset,
        dataflow=options.dataflow,
        vertex_training=options.vertex_training,
    )
    target = PipelineTarget(
        orchestrator="vertex",
        pipeline_root=f"{options.pipeline_root.rstrip('/')}/{spec.name}",
        serving_dir=f"{options.serving_root.rstrip('/')}/{spec.name}",
        repo_root=Path("."),
        beam_args=(),  # per Beam component, from the spec's resources (factory._place_steps)
        cloud=cloud,
        schema_source=str(schema_path(Path(spec_path))),
        snapshot_query=(queries or {}).get(spec.name, ""),
    )
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=options.image
        ),
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
    parser.add_argument("--options", required=True, help="CompileOptions as JSON")
    parser.add_argument(
        "--queries", default="{}", help="spec name -> snapshot-ready BigQuery query (JSON)"
    )
    parser.add_argument("specs", nargs="+")
    args = parser.parse_args(argv)
    options = CompileOptions.model_validate_json(args.options)
    queries: dict[str, str] = json.loads(args.queries)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for spec_path in args.specs:
        started = time.monotonic()
        path = compile_spec(spec_path, out, options, queries)
        print(f"compiled: {path} {time.monotonic() - started:.2f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
