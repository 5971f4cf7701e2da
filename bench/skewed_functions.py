"""The functions of `functions/main.py` on an instance whose clock is off by
RETRAIN_STORM_CLOCK_SKEW seconds (the storm's skewed instance). Loaded by functions-framework
as `--source`; only the service's clock differs, every adapter is the wired one."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from functions.main import (
    on_data_arrival,
    on_drift_alert,
    on_run_complete,
    on_schedule,
    use_service,
)
from retrain.settings import Settings
from retrain.wiring import build_service

SKEW = timedelta(seconds=float(os.environ.get("RETRAIN_STORM_CLOCK_SKEW", "0")))


def _skewed_now() -> datetime:
    return datetime.now(timezone.utc) + SKEW


_service = build_service(Settings.from_env(os.environ))
_service.clock = _skewed_now
use_service(_service)

__all__ = ["on_data_arrival", "on_drift_alert", "on_run_complete", "on_schedule"]
