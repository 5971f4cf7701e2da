"""Every benchmark, one after the other, each printing its figures with ratios against a
baseline measured in the same run (`make bench`). Each runs in its own process.

    .venv/bin/python bench/run_all.py [--quick]

--quick: fewer repetitions, a 2,000-delivery storm, 1,000 fuzz cases per test, no compile,
scaling at 1k and 10k rows only (for a fast look; the figures in docs/benchmarks.md come from
the full run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def benches(quick: bool) -> list[tuple[str, list[str]]]:
    if quick:
        return [
            ("cold start", ["bench/cold_start.py", "--runs", "3"]),
            ("memory", ["bench/memory.py"]),
            ("router throughput", ["bench/router_throughput.py", "--events", "10000"]),
            ("redelivery storm", ["bench/storm.py", "--messages", "200", "--deliveries", "2000"]),
            ("fuzzing", ["bench/fuzz.py", "--examples", "1000"]),
            ("scaling", ["bench/scaling.py", "--sizes", "1000,10000"]),
        ]
    return [
        ("cold start", ["bench/cold_start.py", "--runs", "10"]),
        ("memory", ["bench/memory.py"]),
        ("router throughput", ["bench/router_throughput.py"]),
        ("compile", ["bench/compile_cost.py", "--specs", "20"]),
        ("redelivery storm", ["bench/storm.py", "--messages", "500", "--deliveries", "10000"]),
        ("fuzzing", ["bench/fuzz.py", "--examples", "10000"]),
        ("model quality", ["bench/model_quality.py"]),
        ("scaling", ["bench/scaling.py", "--epochs", "1"]),
        ("cache reuse", ["bench/cache_reuse.py"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")])}
    failed = []
    started = time.perf_counter()
    for name, argv in benches(args.quick):
        print(f"== {name}: {' '.join(argv)}", flush=True)
        t = time.perf_counter()
        code = subprocess.run([sys.executable, *argv], cwd=REPO, env=env, check=False).returncode
        print(f"   ({time.perf_counter() - t:.0f} s{'' if code == 0 else f', exit {code}'})\n")
        if code != 0:
            failed.append(name)
    print(f"all benchmarks in {time.perf_counter() - started:.0f} s", end="")
    print(f"; FAILED: {', '.join(failed)}" if failed else "")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
