"""What `retrain compile` costs: one TFX import plus a small cost per spec, and almost nothing
when nothing changed. Twenty copies of the example specs are generated in a temporary
directory; every step calls the real CLI (`retrain compile`, TFX in the pipeline env).

    .venv/bin/python bench/compile_cost.py [--specs 20]

Baseline (same run): compiling one spec, which is one TFX import plus one spec.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RETRAIN = REPO / ".venv" / "bin" / "retrain"


def write_copies(directory: Path, count: int) -> list[Path]:
    directory.mkdir(parents=True)
    paths = []
    for i in range(count):
        source = ("churn", "house-prices")[i % 2]
        name = f"{source}-{i:02d}"
        text = (REPO / "specs" / f"{source}.yaml").read_text()
        text = re.sub(r"(?m)^name: .*$", f"name: {name}", text)
        path = directory / f"{name}.yaml"
        path.write_text(text)
        schema = (REPO / "specs" / f"{source}.schema.pbtxt").read_text()
        (directory / f"{name}.schema.pbtxt").write_text(schema)
        paths.append(path)
    return paths


def compile_(specs: Path, out: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [str(RETRAIN), "compile", str(specs), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"retrain compile failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return seconds, done.stdout + done.stderr


def per_spec_times(output: str) -> list[float]:
    """The seconds each spec took inside the TFX process ("compiled  NAME -> PATH (0.05s)")."""
    return [float(m) for m in re.findall(r"compiled .*\(([0-9.]+)s\)", output)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--specs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        paths = write_copies(work / "specs", args.specs)
        one = work / "one"
        one.mkdir()
        (one / paths[0].name).write_text(paths[0].read_text())
        t_one, _ = compile_(one, work / "out-one")
        t_all, output = compile_(work / "specs", work / "out")
        inside = per_spec_times(output)
        t_noop, noop_output = compile_(work / "specs", work / "out")
        changed = paths[args.specs // 2]
        changed.write_text(re.sub(r"train_steps: \d+", "train_steps: 77", changed.read_text()))
        t_incr, incr_output = compile_(work / "specs", work / "out")
    per_spec = (t_all - t_one) / (args.specs - 1)
    print(f"retrain compile, {args.specs} generated specs (churn and house-prices copies)")
    print(f"  baseline: 1 spec (TFX import + 1 spec)       {t_one:6.1f} s")
    print(
        f"  all {args.specs} specs, one process                 {t_all:6.1f} s   "
        f"x{t_all / t_one:4.2f} of baseline"
    )
    print(f"  marginal cost per spec ((all - one) / {args.specs - 1})     {per_spec:6.2f} s")
    if len(inside) > 1:
        rest = sorted(inside[1:])
        print(
            f"  inside the TFX process: first spec (with the TFX import) {inside[0]:.1f} s, "
            f"each other spec median {rest[len(rest) // 2]:.2f} s (max {rest[-1]:.2f} s)"
        )
    skipped = len(re.findall(r"(?m)^unchanged ", noop_output))
    print(
        f"  nothing changed (no TFX start)                {t_noop:6.2f} s   "
        f"x{t_noop / t_one:4.2f} of baseline   ({skipped} unchanged)"
    )
    print(
        f"  one spec changed out of {args.specs}                  {t_incr:6.1f} s   "
        f"x{t_incr / t_one:4.2f} of baseline   "
        f"({len(re.findall(r'(?m)^compiled ', incr_output))} compiled)"
    )


if __name__ == "__main__":
    main()
