"""What TFMA's confidence intervals cost the Evaluator: the Evaluator's analysis of a finished
local run (its candidate against its production model, on its eval split, with the spec's
EvalConfig) timed with intervals (TFMA's Poisson bootstrap, as the pipeline runs it) and without.

Run in the pipeline environment on the pipeline root of a run that had a baseline, e.g. one
left by tests/pipelines/test_intervals_run.py:

    .venv-pipelines/bin/python bench/evaluator_intervals.py --spec specs/churn.yaml \\
        --pipeline-root WORK/churn/pipeline_root [--repeats 2]

Prints, per repeat, the seconds of each variant and the ratio of their medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow_model_analysis as tfma  # noqa: E402

from pipelines.components.evaluator import bootstrap_seed  # noqa: E402
from pipelines.factory import eval_config  # noqa: E402
from retrain.spec import load_spec  # noqa: E402


def _models(root: Path) -> list[Path]:
    """The serving models the run's Trainer wrote, oldest first."""
    found = sorted(root.glob("Trainer/model/*/Format-Serving"), key=lambda p: int(p.parent.name))
    if len(found) < 2:
        raise SystemExit(f"{root}: needs two trained models (a run with a baseline)")
    return found


def _eval_split(root: Path) -> str:
    splits = sorted(root.glob("*ExampleGen/examples/*/Split-eval"))
    if not splits:
        raise SystemExit(f"{root}: no ExampleGen eval split")
    return str(splits[-1] / "*")


def _analyse(config: tfma.EvalConfig, candidate: Path, baseline: Path, data: str) -> float:
    models = [
        tfma.default_eval_shared_model(
            eval_saved_model_path=str(path), eval_config=config, model_name=name
        )
        for name, path in (("candidate", candidate), ("baseline", baseline))
    ]
    seed = bootstrap_seed(str(config))  # any fixed seed: the time does not depend on it
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        tfma.run_model_analysis(
            eval_shared_model=models,
            eval_config=config,
            data_location=data,
            file_format="tfrecords",
            output_path=out,
            random_seed_for_testing=seed,
        )
        return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--pipeline-root", required=True)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    spec = load_spec(Path(args.spec))
    root = Path(args.pipeline_root)
    *_, baseline, candidate = _models(root)
    data = _eval_split(root)
    with_ci = eval_config(spec)
    without_ci = eval_config(spec)
    without_ci.ClearField("options")
    times: dict[str, list[float]] = {"without intervals": [], "with intervals": []}
    for repeat in range(args.repeats):
        for name, config in (("without intervals", without_ci), ("with intervals", with_ci)):
            took = _analyse(config, candidate, baseline, data)
            times[name].append(took)
            print(f"repeat {repeat + 1}: {name}: {took:.1f}s", flush=True)
    plain = statistics.median(times["without intervals"])
    boot = statistics.median(times["with intervals"])
    print(f"median: without {plain:.1f}s, with {boot:.1f}s, ratio {boot / plain:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
