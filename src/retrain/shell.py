"""Running a command line (gcloud, git): the port for what no client library does.
`SubprocessRunner` is the real one; tests record the commands instead."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Sequence
from typing import Protocol

from retrain.errors import BackendError


def show(argv: Sequence[str]) -> str:
    """One copy-pasteable shell line for an argv."""
    return shlex.join(argv)


class Runner(Protocol):
    def run(self, argv: Sequence[str]) -> str:
        """Run `argv`; return its stdout. A failure raises BackendError."""
        ...


class SubprocessRunner:
    def __init__(self, timeout: float = 1800) -> None:
        self._timeout = timeout

    def run(self, argv: Sequence[str]) -> str:
        try:
            done = subprocess.run(
                list(argv), capture_output=True, text=True, timeout=self._timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BackendError(f"{argv[0]}: {exc}") from exc
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-10:])
            raise BackendError(f"`{show(argv[:4])} ...` failed (exit {done.returncode}): {tail}")
        return done.stdout
