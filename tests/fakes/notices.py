"""The spec's notices (issues in production), kept in memory: what was reported, what resolved."""

from __future__ import annotations

from retrain.report.notice import Incident


class RecordingNotices:
    def __init__(self) -> None:
        self.problems: list[Incident] = []
        self.resolved: list[tuple[str, str]] = []

    def report(self, problem: Incident) -> None:
        self.problems.append(problem)

    def resolve(self, spec: str, job_id: str) -> None:
        self.resolved.append((spec, job_id))
