"""The one port through which delivery touches the cloud: run a command (gcloud, git), get its
output. `SubprocessRunner` is the real one; `DryRunRunner` prints what would run."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from retrain.errors import BackendError


class Runner(Protocol):
    dry_run: bool

    def run(self, argv: Sequence[str], *, reads: bool = False) -> str:
        """Run `argv`; return its stdout. `reads` marks a command that changes nothing
        (a dry run may skip it too, and then gets an empty answer)."""
        ...


def show(argv: Sequence[str]) -> str:
    """One copy-pasteable shell line for an argv."""
    return shlex.join(argv)


class SubprocessRunner:
    dry_run = False

    def __init__(self, echo: TextIO | None = sys.stdout, timeout: float = 1800) -> None:
        self._echo = echo
        self._timeout = timeout

    def run(self, argv: Sequence[str], *, reads: bool = False) -> str:
        if self._echo is not None and not reads:
            print(f"+ {show(argv)}", file=self._echo, flush=True)
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


@dataclass
class DryRunRunner:
    """Prints every command that would change something; answers reads with ''."""

    echo: TextIO = sys.stdout
    dry_run: bool = True
    commands: list[list[str]] = field(default_factory=list)

    def run(self, argv: Sequence[str], *, reads: bool = False) -> str:
        self.commands.append(list(argv))
        print(f"{'would read' if reads else 'would run'}: {show(argv)}", file=self.echo)
        return ""
