"""The hardening fuzz tests in their long mode: 10,000 hypothesis cases per test (handlers on
garbage and on mutated events, the spec loader; the functions-framework test gets a third),
against the 300 cases `make test` runs. Prints cases, time and cases per second for both.

    .venv/bin/python bench/fuzz.py [--examples 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = "tests/hardening/test_fuzz.py"
PER_RUN_TESTS = 3  # tests running `examples` cases; the framework test runs a third of that


def run(examples: int) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TESTS],
        env={**os.environ, "RETRAIN_FUZZ_EXAMPLES": str(examples)},
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"fuzzing found a failure:\n{done.stdout[-5000:]}")
    cases = PER_RUN_TESTS * examples + max(examples // 3, 50)
    return seconds, cases


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=10_000)
    args = parser.parse_args()
    base_s, base_cases = run(300)
    long_s, long_cases = run(args.examples)
    print("hypothesis fuzzing (tests/hardening/test_fuzz.py): no failure")
    print(f"  baseline, make test size: {base_cases:7d} cases in {base_s:6.1f} s")
    print(
        f"  long mode: {args.examples} per test: {long_cases:7d} cases in {long_s:6.1f} s "
        f"({long_cases / long_s:.0f} cases/s, x{long_s / base_s:.1f} the time of the baseline)"
    )


if __name__ == "__main__":
    main()
