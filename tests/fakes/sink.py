"""An outcome sink that keeps what it is handed (the service's completion sink)."""

from __future__ import annotations

from retrain.runs import RunOutcome


class RecordingSink:
    def __init__(self) -> None:
        self.outcomes: list[RunOutcome] = []

    def handle(self, outcome: RunOutcome) -> None:
        self.outcomes.append(outcome)
