"""Cold import time of functions/main.py beside bare functions_framework and the high-level
aiplatform SDK: median of N fresh processes each, interleaved so machine load hits all alike.

Also shows the first event's extra cost (settings, spec index, routing), which the lazy
imports move out of import time: `functions/main.py + first event`.

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
_EVENT_FILE = GOLDEN / "bigquery_v2_below_threshold.json"
_FIRST_EVENT = f"module.service().data_arrival(open({str(_EVENT_FILE)!r}, 'rb').read())"
SUBJECTS = {
    "functions_framework": "import functions_framework",
    "functions/main.py": _LOAD_MAIN,
    "functions/main.py + first event": _LOAD_MAIN + _FIRST_EVENT,
    "google.cloud.aiplatform (SDK)": "from google.cloud import aiplatform",
}
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
        print(
            f"  {name:<34} {median:6.3f} s   x{median / base:5.2f} of functions_framework"
            f"   (min {min(values):.3f}, max {max(values):.3f})"
        )
    main_median = statistics.median(times["functions/main.py"])
    sdk_median = statistics.median(times["google.cloud.aiplatform (SDK)"])
    print(f"  the SDK takes x{sdk_median / main_median:.1f} the import time of functions/main.py")


if __name__ == "__main__":
    main()
