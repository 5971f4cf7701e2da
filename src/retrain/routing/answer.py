"""What an event handler gives back to the service: its decisions, and maybe a finished run."""

from __future__ import annotations

from dataclasses import dataclass

from retrain.routing.decision import Decision
from retrain.runs import RunOutcome


@dataclass(frozen=True)
class Answer:
    decisions: list[Decision]
    # a finished run for the completion sink, handed over once the decisions are recorded
    outcome: RunOutcome | None = None
