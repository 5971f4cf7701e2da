"""A command runner (gcloud, docker, terraform) that records every command instead of running it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from retrain.errors import BackendError


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
