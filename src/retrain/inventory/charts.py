"""Metric history as static SVG, drawn by matplotlib on the server: the page needs no script
and fetches nothing to show it. Each chart comes with the table of the same numbers."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from retrain.inventory.model import Run
from retrain.report.escape import one_line
from retrain.report.history import HistoryPoint
from retrain.summary import Threshold

OVERALL = "overall"


@dataclass
class Series:
    """One metric's values per run (oldest first), overall and per slice."""

    metric: str
    runs: list[str] = field(default_factory=list)
    lines: dict[str, list[float | None]] = field(default_factory=dict)
    threshold: Threshold | None = None

    def add(self, run_id: str, values: dict[str, float | None]) -> None:
        for name in values:
            self.lines.setdefault(name, [None] * len(self.runs))
        self.runs.append(run_id)
        for name, line in self.lines.items():
            line.append(values.get(name))

    @property
    def names(self) -> list[str]:
        return sorted(self.lines, key=lambda n: (n != OVERALL, n))


def slice_name(slice_: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(slice_.items())) or OVERALL


def series(runs: list[Run], history: list[HistoryPoint]) -> list[Series]:
    """Per metric, from each run's summary (overall and slices); a run the history knows but
    whose summary is gone adds its overall value only. Oldest run first."""
    done = sorted(
        (r for r in runs if r.summary is not None), key=lambda r: (r.finished_at, r.job_id)
    )
    points: list[tuple[str, str, dict[str, dict[str, float | None]], list[Threshold]]] = []
    for run in done:
        assert run.summary is not None
        values: dict[str, dict[str, float | None]] = {}
        for m in run.summary.metrics:
            finite = m.candidate if m.candidate is not None and math.isfinite(m.candidate) else None
            values.setdefault(m.metric, {})[slice_name(m.slice)] = finite
        points.append((run.finished_at, run.job_id, values, run.summary.thresholds))
    known = {r.job_id for r in done}
    for p in history:
        if p.run_id not in known:
            values = {metric: {OVERALL: v} for metric, v in p.metrics.items()}
            points.append((p.finished_at, p.run_id, values, []))
    points.sort(key=lambda p: (p[0], p[1]))
    by_metric: dict[str, Series] = {}
    for _, run_id, values, thresholds in points:
        for metric, lines in values.items():
            s = by_metric.setdefault(metric, Series(metric))
            s.add(run_id, lines)
            s.threshold = next((t for t in thresholds if t.metric == metric), s.threshold)
    return [by_metric[m] for m in sorted(by_metric)]


def svg(s: Series, title: str) -> str:
    """One chart: a line per slice (overall drawn thicker), the threshold bounds dashed."""
    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.2), dpi=96)
    ax = fig.add_subplot()
    xs = list(range(1, len(s.runs) + 1))
    for name in s.names:
        ys = [math.nan if v is None else v for v in s.lines[name]]
        overall = name == OVERALL
        ax.plot(xs, ys, marker="o", linewidth=2.6 if overall else 1.2, label=one_line(name, 60),
                zorder=3 if overall else 2)  # fmt: skip
    if s.threshold is not None:
        for bound, label in ((s.threshold.min, "min"), (s.threshold.max, "max")):
            if bound is not None:
                ax.axhline(bound, color="#b00020", linestyle="--", linewidth=1.2,
                           label=f"threshold {label} {bound:g}")  # fmt: skip
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("run (oldest to newest)")
    ax.set_ylabel(one_line(s.metric, 60))  # SVG is XML: no control characters
    ax.set_xticks(xs)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    out = io.StringIO()
    # ids stable (same data, same file) and unique per chart on a page; text stays text
    with matplotlib.rc_context({"svg.hashsalt": title, "svg.fonttype": "none"}):
        fig.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg") :]  # inline: drop the XML declaration and doctype
