"""Model quality on real public datasets: our TFX model beside a scikit-learn baseline.

For each spec in examples/specs (Palmer penguins multiclass and binary, scikit-learn's
diabetes regression), runs the real pipeline (`retrain run --local`), then fits a
regularised linear model (bench/sklearn_baseline.py, pipeline env) on the same train/eval
split that run's ExampleGen wrote, and prints both figures and their ratio. Targets: at
least 98% of the baseline's AUC or accuracy, at most 110% of its RMSE. Exits 1 on a miss.

    .venv/bin/python bench/model_quality.py [--specs examples/specs] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from retrain.metrics import METRICS  # noqa: E402
from retrain.pipeline_env.local_run import run_local  # noqa: E402
from retrain.pipeline_env.process import PipelineEnv  # noqa: E402
from retrain.spec import load_spec, spec_paths  # noqa: E402

PIPELINE_ENV = PipelineEnv.found(REPO)

# Higher-is-better metrics may fall 2% short of the baseline; errors may be 10% larger.
TARGET_HIGHER = 0.98
TARGET_LOWER = 1.10


def examples_dir(workdir: Path, spec: str) -> Path:
    """The examples of the run just made: the newest CsvExampleGen output."""
    root = workdir / spec / "pipeline_root" / "CsvExampleGen" / "examples"
    return max(root.iterdir(), key=lambda p: int(p.name))


def measure(path: Path, workdir: Path) -> dict[str, object]:
    spec = load_spec(path)
    started = time.perf_counter()
    summary_file = run_local(PIPELINE_ENV, spec, path, workdir, {"run_id": f"{spec.name}-quality"})
    took = time.perf_counter() - started
    summary = json.loads(summary_file.read_text())
    lines = PIPELINE_ENV.run_module(
        "bench.sklearn_baseline",
        ["--spec", str(path), "--examples", str(examples_dir(workdir, spec.name))],
        workdir / f"{spec.name}-baseline.log",
        on_line=lambda _line: None,
    )
    base = json.loads(lines[-1])
    metric = str(base["metric"])
    ours = next(
        m["candidate"] for m in summary["metrics"] if m["metric"] == metric and not m["slice"]
    )
    ratio = float(ours) / float(base["value"])
    higher = METRICS[metric].higher_is_better
    ok = ratio >= TARGET_HIGHER if higher else ratio <= TARGET_LOWER
    return {
        "spec": spec.name,
        "task": spec.task,
        "metric": metric,
        "ours": float(ours),
        "baseline": float(base["value"]),
        "baseline_model": base["model"],
        "ratio": ratio,
        "target": f"≥ {TARGET_HIGHER}" if higher else f"≤ {TARGET_LOWER}",
        "ok": ok,
        "rows": f"{base['train_rows']}/{base['eval_rows']}",
        "seconds": took,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--specs", default=str(REPO / "examples" / "specs"))
    parser.add_argument("--workdir", default="", help="default: a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="retrain-quality-") as temporary:
        workdir = Path(args.workdir or temporary)
        results = [measure(p, workdir) for p in spec_paths([args.specs])]
    print(
        f"{'spec':<18} {'task':<26} {'metric':<9} {'ours':>8} {'sklearn':>8} "
        f"{'ratio':>6} {'target':>7}  {'train/eval':>10} {'run s':>6}"
    )
    for r in results:
        print(
            f"{r['spec']:<18} {r['task']:<26} {r['metric']:<9} {r['ours']:>8.4f} "
            f"{r['baseline']:>8.4f} {r['ratio']:>6.3f} {r['target']:>7}  {r['rows']:>10} "
            f"{r['seconds']:>6.0f}{'' if r['ok'] else '  MISS'}"
        )
    print("baseline: scikit-learn logistic regression / ridge, mean imputation, same split")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
