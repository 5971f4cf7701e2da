"""The test doubles, one definition each (their fixtures: tests/fakes/fixtures.py)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def local_run_command(seconds: float = 0) -> str:
    """RETRAIN_LOCAL_RUN_COMMAND for a stack whose runs are tests/fakes/local_run.py: each takes
    `seconds`, then records the arguments it was given."""
    argv = [sys.executable, str(Path(__file__).parent / "local_run.py")]
    return shlex.join(argv + (["--seconds", str(seconds)] if seconds else []))
