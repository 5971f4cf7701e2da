"""The data-arrival ledger state machine in its long mode: thousands of random steps (two
instances; arrivals, redeliveries, completions delivered, redelivered or lost, crashes,
refusals, transient failures, wake-up ticks) against the few hundred `make test` runs.
Prints steps, time and steps per second for both; exits 1 if any invariant broke.

    .venv/bin/python bench/ledger_machine.py [--examples 200] [--steps 50]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = "tests/routing/test_ledger_machine.py"
BASELINE = (10, 30)  # the test's defaults: what `make test` runs


def run(examples: int, steps: int) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TESTS],
        env={
            **os.environ,
            "RETRAIN_MACHINE_EXAMPLES": str(examples),
            "RETRAIN_MACHINE_STEPS": str(steps),
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the ledger state machine found a failure:\n{done.stdout[-5000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    base_s = run(*BASELINE)
    long_s = run(args.examples, args.steps)
    base_steps, long_steps = BASELINE[0] * BASELINE[1], args.examples * args.steps
    print(f"ledger state machine ({TESTS}): no invariant broken")
    print(f"  baseline, make test size: up to {base_steps:6d} steps in {base_s:6.1f} s")
    print(
        f"  long mode: up to {long_steps:6d} steps in {long_s:6.1f} s "
        f"({long_steps / long_s:.0f} steps/s at most, x{long_s / base_s:.1f} the baseline's time)"
    )


if __name__ == "__main__":
    main()
