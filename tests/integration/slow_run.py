"""Stands in for `retrain run SPEC --local ...` in the wake-up test: a run that takes a few
seconds (so rows can arrive while it is in progress), then records its arguments."""

from __future__ import annotations

import argparse
import json
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
args = parser.parse_args()
time.sleep(6)
root = Path(args.workdir) / args.spec.stem / "pipeline_root" / "summaries" / args.run_id
root.mkdir(parents=True, exist_ok=True)
(root / "args.json").write_text(json.dumps(vars(args), default=str))
