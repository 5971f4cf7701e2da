"""Stands in for `retrain run SPEC --local ...` in stack tests: checks the arguments the local
backend passes, waits `--seconds` (a run in progress, for rows to arrive meanwhile), writes a
marker under the pipeline root, exits 0 (or 3 for a `fail` event).

RETRAIN_LOCAL_RUN_COMMAND="python tests/fakes/local_run.py [--seconds N]"
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("spec", type=Path)
parser.add_argument("--local", action="store_true", required=True)
for flag in ("--workdir", "--run-id", "--trigger", "--git-sha", "--event-id", "--data-window"):
    parser.add_argument(flag, required=True)
parser.add_argument("--pr-number")
parser.add_argument("--baseline-uri")  # only when production has a model
for flag in ("--baseline-version", "--baseline-reason", "--data-snapshot"):
    parser.add_argument(flag, required=True)
parser.add_argument("--seconds", type=float, default=0.0)  # the fake's own: how long it runs
args = parser.parse_args()
time.sleep(args.seconds)
root = Path(args.workdir) / args.spec.stem / "pipeline_root" / "summaries" / args.run_id
root.mkdir(parents=True, exist_ok=True)
(root / "args.json").write_text(json.dumps(vars(args), default=str))
sys.exit(3 if args.event_id.startswith("fail") else 0)
