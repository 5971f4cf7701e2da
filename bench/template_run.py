"""What executing the compiled template costs against a LocalDagRunner run of the same spec:
`retrain run SPEC --local` and `retrain run SPEC --local --from-template`, one run each, in
fresh work directories, on the same pinned data snapshot, one after the other in this process.
Prints end-to-end seconds, the ratio (template / LocalDagRunner), and per-step seconds.

A template run starts one Python per task (each imports TFX), as Vertex starts one container
per task, and its first step compiles the spec; LocalDagRunner imports TFX once.

    .venv/bin/python bench/template_run.py [--spec churn] [--keep DIR]
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
SNAPSHOT = "2026-11-20T05:00:00Z"
PROGRESS = re.compile(r"\[\d+/\d+\] (\S+) done in ([0-9.]+)s")
COMPILED = re.compile(r"compiled\s+\S+ -> \S+ \(([0-9.]+)s\)")


def run(spec: str, workdir: Path, template: bool) -> tuple[float, dict[str, float]]:
    argv = [str(RETRAIN), "run", spec, "--local", "--workdir", str(workdir)]
    argv += ["--run-id", "bench-1", "--data-snapshot", SNAPSHOT]
    argv += ["--from-template"] if template else []
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 3):  # 3: ran, not blessed
        raise SystemExit(f"retrain run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    steps = {m[1]: float(m[2]) for m in PROGRESS.finditer(done.stdout)}
    compiled = COMPILED.search(done.stdout)
    if compiled:
        steps = {"(compile)": float(compiled[1]), **steps}
    return seconds, steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default="churn")
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="retrain-template-bench-"))
    try:
        local_s, local_steps = run(args.spec, work / "local", template=False)
        template_s, template_steps = run(args.spec, work / "template", template=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'':<28}{'LocalDagRunner':>16}{'template':>12}{'ratio':>8}")
    print(f"{'end to end, s':<28}{local_s:>16.1f}{template_s:>12.1f}{template_s / local_s:>8.2f}")
    for name in dict.fromkeys([*template_steps, *local_steps]):
        a, b = local_steps.get(name), template_steps.get(name)
        cells = [f"{v:.1f}" if v is not None else "-" for v in (a, b)]
        ratio = f"{b / a:.2f}" if a and b else ""
        print(f"{name:<28}{cells[0]:>16}{cells[1]:>12}{ratio:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
