"""MetricHistory kept in memory, merging points the way stored histories do."""

from __future__ import annotations

from retrain.report.history import HistoryPoint, merged


class InMemoryHistory:
    def __init__(self) -> None:
        self.points: dict[str, list[HistoryPoint]] = {}

    def record(self, spec: str, point: HistoryPoint) -> None:
        self.points[spec] = merged(self.points.get(spec, []), point)

    def recent(self, spec: str, limit: int) -> list[HistoryPoint]:
        return self.points.get(spec, [])[-limit:]
