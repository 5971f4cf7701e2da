"""`retrain schema infer`: write a spec's TFDV schema from its current data.

The rows are the ones a run would read (the training query over the local table, less the rows
a run drops); TFDV lives in the pipeline environment, so the inference runs there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from retrain.data.local import materialize
from retrain.pipeline_env.process import PipelineEnv
from retrain.spec import Spec
from retrain.spec.tfschema import schema_path


def infer_schema(env: PipelineEnv, spec: Spec, spec_path: Path, log_dir: Path) -> tuple[Path, int]:
    """Write `<spec dir>/<name>.schema.pbtxt`; return it and the number of rows read."""
    out = schema_path(spec_path).resolve()
    with tempfile.TemporaryDirectory(prefix="retrain-schema-") as scratch:
        csv = Path(scratch) / f"{spec.name}.csv"
        rows = materialize(spec, env.repo_root, csv, spec_file=spec_path)
        args = ["--spec", str(spec_path.resolve()), "--csv", str(csv), "--out", str(out)]
        env.run_module(
            "pipelines.infer_schema",
            [*args, "--rows", str(rows)],
            log_dir / f"schema-infer-{spec.name}.log",
            on_line=lambda _line: None,
        )
    return out, rows
