"""Metric history as static SVG, drawn by matplotlib on the server: the page needs no script
and fetches nothing to show it. Each chart comes with the table of the same numbers."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from retrain.inventory.model import Run
from retrain.metrics import METRICS
from retrain.report.escape import one_line
from retrain.report.history import HistoryPoint
from retrain.summary import Threshold

OVERALL = "overall"
WORST_SLICES = 3  # slices drawn beside the overall line: more would hide it

Band = tuple[float, float]


@dataclass
class Series:
    """One metric's values per run (oldest first), overall and per slice, and the overall
    value's confidence interval where the run's summary has one."""

    metric: str
    runs: list[str] = field(default_factory=list)
    lines: dict[str, list[float | None]] = field(default_factory=dict)
    threshold: Threshold | None = None
    band: list[Band | None] = field(default_factory=list)
    higher_is_better: bool = True

    def add(self, run_id: str, values: dict[str, float | None], band: Band | None = None) -> None:
        for name in values:
            self.lines.setdefault(name, [None] * len(self.runs))
        self.runs.append(run_id)
        self.band.append(band)
        for name, line in self.lines.items():
            line.append(values.get(name))

    @property
    def worst(self) -> list[str]:
        """The slices furthest on the wrong side of overall in their newest value, worst first."""
        sign = 1 if self.higher_is_better else -1
        scored = []
        for name, line in self.lines.items():
            latest = next((v for v in reversed(line) if v is not None), None)
            if name != OVERALL and latest is not None:
                scored.append((sign * latest, name))
        return [name for _, name in sorted(scored)[:WORST_SLICES]]

    @property
    def names(self) -> list[str]:
        """What is drawn and tabled: overall, then the worst slices."""
        return [*([OVERALL] if OVERALL in self.lines else []), *self.worst]


def slice_name(slice_: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(slice_.items())) or OVERALL


def series(runs: list[Run], history: list[HistoryPoint]) -> list[Series]:
    """Per metric, from each run's summary (overall and slices); a run the history knows but
    whose summary is gone adds its overall value only. Oldest run first."""
    done = sorted(
        (r for r in runs if r.summary is not None), key=lambda r: (r.finished_at, r.job_id)
    )
    Point = tuple[str, str, dict[str, dict[str, float | None]], dict[str, Band], list[Threshold]]
    points: list[Point] = []
    for run in done:
        assert run.summary is not None
        values: dict[str, dict[str, float | None]] = {}
        bands: dict[str, Band] = {}
        for m in run.summary.metrics:
            finite = m.candidate if m.candidate is not None and math.isfinite(m.candidate) else None
            values.setdefault(m.metric, {})[slice_name(m.slice)] = finite
            ci = m.candidate_interval
            if not m.slice and ci is not None and math.isfinite(ci.low + ci.high):
                bands[m.metric] = (ci.low, ci.high)
        points.append((run.finished_at, run.job_id, values, bands, run.summary.thresholds))
    known = {r.job_id for r in done}
    for p in history:
        if p.run_id not in known:
            values = {metric: {OVERALL: v} for metric, v in p.metrics.items()}
            points.append((p.finished_at, p.run_id, values, {}, []))
    points.sort(key=lambda p: (p[0], p[1]))
    by_metric: dict[str, Series] = {}
    for _, run_id, values, bands, thresholds in points:
        for metric, lines in values.items():
            info = METRICS.get(metric)
            s = by_metric.setdefault(
                metric, Series(metric, higher_is_better=info.higher_is_better if info else True)
            )
            s.add(run_id, lines, bands.get(metric))
            s.threshold = next((t for t in thresholds if t.metric == metric), s.threshold)
    return [by_metric[m] for m in sorted(by_metric)]


def svg(s: Series, title: str) -> str:
    """One chart: a line per slice (overall drawn thicker), the threshold bounds dashed."""
    import matplotlib
    from matplotlib.figure import Figure

    # As wide as the page's column (76rem at 96 dpi is about 12 in; two thirds of it, the
    # table beside), the legend under the plot rather than squeezed to its right.
    fig = Figure(figsize=(8.0, 4.2), dpi=96)
    ax = fig.add_subplot()
    xs = list(range(1, len(s.runs) + 1))
    banded = [(x, b) for x, b in zip(xs, s.band, strict=True) if b is not None]
    if banded:
        ax.fill_between([x for x, _ in banded], [b[0] for _, b in banded],
                        [b[1] for _, b in banded], color="#1f77b4", alpha=0.18, linewidth=0,
                        label="overall: confidence interval", zorder=1)  # fmt: skip
    for name in s.names:
        ys = [math.nan if v is None else v for v in s.lines[name]]
        overall = name == OVERALL
        label = one_line(name if overall else f"slice {name}", 60)
        ax.plot(xs, ys, marker="o", linewidth=2.8 if overall else 1.3, label=label,
                color="#1f77b4" if overall else None, zorder=3 if overall else 2)  # fmt: skip
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
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3,
              frameon=False)  # fmt: skip
    fig.tight_layout()
    out = io.StringIO()
    # ids stable (same data, same file) and unique per chart on a page; text stays text
    with matplotlib.rc_context({"svg.hashsalt": title, "svg.fonttype": "none"}):
        fig.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg") :]  # inline: drop the XML declaration and doctype
