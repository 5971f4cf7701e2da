"""Cold import time of functions/main.py beside bare functions_framework and a handler built
the reference solution's way (the high-level aiplatform SDK imported at module load): median
of N fresh processes each, interleaved so machine load hits all alike.

Also the first event's extra cost (settings, spec index, routing), which the lazy imports move
out of import time: an unrelated audit event dismissed, and one below its spec's threshold.
Targets: import within 2x of functions_framework, dismissing an unrelated event within 3x.

    .venv/bin/python bench/cold_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAIN = REPO / "functions" / "main.py"
GOLDEN = REPO / "tests" / "golden" / "events"

_LOAD_MAIN = f"""
import importlib.util
spec = importlib.util.spec_from_file_location("main", {str(MAIN)!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
"""


def _event(name: str) -> str:
    path = str(GOLDEN / name)
    return f"module.service().handle('data_arrival', open({path!r}, 'rb').read())"


SUBJECTS = {
    "functions_framework": "import functions_framework",
    "functions/main.py": _LOAD_MAIN,
    "main.py + unrelated event dismissed": _LOAD_MAIN + _event("bigquery_v2_unwatched.json"),
    "main.py + event below threshold": _LOAD_MAIN + _event("bigquery_v2_below_threshold.json"),
    "reference handler (aiplatform SDK)": (
        "import functions_framework\nfrom google.cloud import aiplatform"
    ),
}
TARGETS = {"functions/main.py": 2.0, "main.py + unrelated event dismissed": 3.0}
TIMER = (
    "import time, sys\nt0 = time.perf_counter()\n{body}\n"
    "sys.stderr.write(repr(time.perf_counter() - t0))"
)


def one_run(body: str, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", TIMER.format(body=body)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=REPO,
    )
    return float(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        env = {
            **os.environ,
            "RETRAIN_STATE": "memory",
            "RETRAIN_SPECS_DIR": str(GOLDEN / "specs"),
            "RETRAIN_WORKDIR": work,
        }
        times: dict[str, list[float]] = {name: [] for name in SUBJECTS}
        for _ in range(args.runs):
            for name, body in SUBJECTS.items():
                times[name].append(one_run(body, env))
    base = statistics.median(times["functions_framework"])
    print(f"cold import, median of {args.runs} fresh processes (python {sys.version.split()[0]})")
    for name, values in times.items():
        median = statistics.median(values)
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"  target x{target:.0f}: {'met' if median / base <= target else 'MISSED'}"
        print(
            f"  {name:<36} {median:6.3f} s   x{median / base:5.2f} of functions_framework"
            f"   (min {min(values):.3f}, max {max(values):.3f}){verdict}"
        )
    dismiss = statistics.median(times["main.py + unrelated event dismissed"])
    sdk_median = statistics.median(times["reference handler (aiplatform SDK)"])
    print(
        f"  the reference handler takes x{sdk_median / dismiss:.1f} the time of main.py "
        "importing and dismissing an event"
    )


if __name__ == "__main__":
    main()
