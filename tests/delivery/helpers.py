"""Shared by the delivery tests: a runner that records commands, and paths."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from retrain.delivery.config import DeployConfig
from retrain.errors import BackendError

REPO = Path(__file__).resolve().parents[2]
RETRAIN = REPO / ".venv" / "bin" / "retrain"
SHA = "0123456789abcdef0123456789abcdef01234567"


def config(**values: str) -> DeployConfig:
    return DeployConfig.model_validate({"project": "acme-prod", "git_sha": SHA, **values})


@dataclass
class RecordingRunner:
    """Records every command; `answer` gives the output of reads (or raises BackendError)."""

    answer: Callable[[list[str]], str] = lambda argv: ""
    commands: list[list[str]] = field(default_factory=list)

    def run(self, argv: Sequence[str]) -> str:
        self.commands.append(list(argv))
        return self.answer(list(argv))

    def lines(self) -> list[str]:
        return [" ".join(c) for c in self.commands]


def refuse(message: str) -> Callable[[list[str]], str]:
    def answer(argv: list[str]) -> str:
        raise BackendError(message)

    return answer


def retrain(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI the way Cloud Build and the workflows do."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RETRAIN_")}
    full_env.update(env or {})
    return subprocess.run(
        [str(RETRAIN), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )
