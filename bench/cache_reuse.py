"""What TFX's cache saves a PR candidate: the second run on an unchanged data snapshot, after a
change to the trainer's hyperparameters only, against the first (baseline, same process).

Three real local runs of `churn` (Transform on) through the CLI (`retrain run --local`):
  1. first PR candidate, data snapshot T1 (nothing cached yet);
  2. same snapshot T1, learning_rate changed: ExampleGen, StatisticsGen, ImportSchemaGen and
     Transform should come from the cache, the Trainer and what follows run again;
  3. a new snapshot T2 with the same spec: nothing data-side may come from the cache.
Per-component times come from the run's progress lines; the target is run 2 <= 50% of run 1.

    .venv/bin/python bench/cache_reuse.py [--train-steps 300] [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RETRAIN = REPO / ".venv" / "bin" / "retrain"
DATA_STEPS = ("CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "Transform")
PROGRESS = re.compile(r"\[\d+/\d+\] (\S+) done in ([0-9.]+)s")


def spec_copy(directory: Path, train_steps: int, learning_rate: float) -> Path:
    text = (REPO / "specs" / "churn.yaml").read_text()
    text = re.sub(r"train_steps: \d+", f"train_steps: {train_steps}", text)
    text = re.sub(r"learning_rate: [0-9.e-]+", f"learning_rate: {learning_rate}", text)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "specs" / "churn.schema.pbtxt", directory / "churn.schema.pbtxt")
    path = directory / "churn.yaml"
    path.write_text(text)
    return path


def run(spec: Path, workdir: Path, run_id: str, snapshot: str) -> tuple[float, dict[str, float]]:
    argv = [str(RETRAIN), "run", str(spec), "--local", "--workdir", str(workdir)]
    argv += ["--run-id", run_id, "--trigger", "pull_request", "--pr-number", "7"]
    argv += ["--data-snapshot", snapshot]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"retrain run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    steps = {m[1]: float(m[2]) for m in PROGRESS.finditer(done.stdout)}
    return seconds, steps


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-steps", type=int, default=300)
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="retrain-cache-bench-"))
    try:
        first_spec = spec_copy(work / "specs-1", args.train_steps, 0.01)
        tuned_spec = spec_copy(work / "specs-2", args.train_steps, 0.02)
        runs = work / "runs"
        t1, t2 = "2026-11-20T05:00:00Z", "2026-11-21T05:00:00Z"
        first = run(first_spec, runs, "churn-pr-7-first", t1)
        second = run(tuned_spec, runs, "churn-pr-7-tuned", t1)
        fresh = run(tuned_spec, runs, "churn-pr-7-new-snapshot", t2)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    names = list(dict.fromkeys([*first[1], *second[1], *fresh[1]]))
    print(f"{'component':<26} {'run 1 (s)':>10} {'run 2 (s)':>10} {'2/1':>6} {'new snap (s)':>13}")
    for name in names:
        a, b, c = first[1].get(name), second[1].get(name), fresh[1].get(name)
        share = f"{b / a:.2f}" if a and b is not None else "-"
        cells = [f"{v:.1f}" if v is not None else "-" for v in (a, b, c)]
        print(f"{name:<26} {cells[0]:>10} {cells[1]:>10} {share:>6} {cells[2]:>13}")
    ratio = second[0] / first[0]
    print(
        f"{'whole run (wall, CLI)':<26} {first[0]:>10.1f} {second[0]:>10.1f} {ratio:>6.2f}"
        f" {fresh[0]:>13.1f}"
    )
    data_first = sum(first[1].get(n, 0.0) for n in DATA_STEPS)
    data_second = sum(second[1].get(n, 0.0) for n in DATA_STEPS)
    data_fresh = sum(fresh[1].get(n, 0.0) for n in DATA_STEPS)
    print(
        f"data steps ({', '.join(DATA_STEPS)}): run 1 {data_first:.1f}s, run 2 "
        f"{data_second:.1f}s, new snapshot {data_fresh:.1f}s"
    )
    verdict = "met" if ratio <= 0.5 else "NOT met"
    print(f"target: second run <= 50% of the first: {ratio:.0%}, {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
