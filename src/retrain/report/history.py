"""Metric history across recent runs of a spec: the value, the port, and how a point merges.

The chart in a comment needs earlier runs' numbers. They are kept behind `MetricHistory` so
the completion handler can store them wherever the run's files live (a local directory or
a bucket) and tests can keep them in memory (`tests.fakes.history`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from retrain.summary import EvaluationSummary

KEEP = 50


class HistoryPoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    run_id: str
    finished_at: str
    trigger: str = ""
    blessed: bool = False
    metrics: dict[str, float] = Field(default_factory=dict, description="Overall candidate values.")


class HistoryFile(BaseModel):
    """The stored form: one document per spec, newest last."""

    model_config = ConfigDict(extra="ignore")

    spec: str
    points: list[HistoryPoint] = Field(default_factory=list)


class MetricHistory(Protocol):
    def record(self, spec: str, point: HistoryPoint) -> None: ...

    def recent(self, spec: str, limit: int) -> list[HistoryPoint]: ...


def point_from(summary: EvaluationSummary) -> HistoryPoint:
    values = {
        m.metric: m.candidate
        for m in summary.metrics
        if not m.slice and m.candidate is not None and math.isfinite(m.candidate)
    }
    return HistoryPoint(
        run_id=summary.run.run_id,
        finished_at=summary.run.finished_at,
        trigger=summary.run.trigger,
        blessed=summary.blessed,
        metrics=values,
    )


def merged(
    points: Sequence[HistoryPoint], point: HistoryPoint, keep: int = KEEP
) -> list[HistoryPoint]:
    """Add or replace `point` (a redelivered event records once), oldest first, at most `keep`."""
    others = [p for p in points if p.run_id != point.run_id]
    ordered = sorted([*others, point], key=lambda p: (p.finished_at, p.run_id))
    return ordered[-keep:]
