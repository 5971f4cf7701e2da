"""What an event handler gives back to the service: its decisions, and the finished runs."""

from __future__ import annotations

from dataclasses import dataclass

from retrain.routing.decision import Decision
from retrain.runs import RunOutcome


@dataclass(frozen=True)
class Finished:
    """A finished run for the completion sink, and its `completed` decision: recorded only
    once the sink has taken it, so a code host that is down logs nothing until it posts."""

    outcome: RunOutcome
    decision: Decision


@dataclass(frozen=True)
class Answer:
    decisions: list[Decision]
    finished: tuple[Finished, ...] = ()
