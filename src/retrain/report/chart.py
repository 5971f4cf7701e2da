"""Metric history as a mermaid `xychart-beta` block, which GitHub renders in comments."""

from __future__ import annotations

from collections.abc import Sequence

from retrain.report.escape import code, mermaid_text
from retrain.report.history import HistoryPoint
from retrain.report.numbers import fmt

MIN_CHART_POINTS = 3  # fewer runs get the table only


def history_section(
    metrics: Sequence[tuple[str, float | None]], points: Sequence[HistoryPoint]
) -> str:
    """One chart per metric (with its absolute bound as a second line) and a table of runs.

    `metrics` pairs each metric with the bound worth drawing (min or max), if any. Returns
    an empty string when fewer than two runs have values: a single point is not a trend; with
    two, the table alone (a line between two points says nothing the table does not).
    """
    charts = []
    runs_with_values = 0
    for metric, bound in metrics:
        series = [(i, p.metrics[metric]) for i, p in enumerate(points, 1) if metric in p.metrics]
        runs_with_values = max(runs_with_values, len(series))
        if len(series) < MIN_CHART_POINTS:
            continue
        values = [v for _, v in series]
        span = [*values, *([bound] if bound is not None else [])]
        low, high = min(span), max(span)
        pad = (high - low) * 0.1 or abs(high) * 0.05 or 0.05
        labels = ", ".join(f'"#{i}"' for i, _ in series)
        lines = [
            "```mermaid",
            "xychart-beta",
            f'    title "{mermaid_text(metric)}, last {len(series)} runs"',
            f"    x-axis [{labels}]",
            f'    y-axis "{mermaid_text(metric)}" {low - pad:.4f} --> {high + pad:.4f}',
            f"    line [{', '.join(f'{v:.4f}' for v in values)}]",
        ]
        if bound is not None:
            lines.append(f"    line [{', '.join(f'{bound:.4f}' for _ in values)}]")
        lines.append("```")
        charts.append("\n".join(lines))
    if runs_with_values < 2:
        return ""
    names = [m for m, _ in metrics]
    header = "| # | Finished | Trigger | " + " | ".join(code(m, True) for m in names) + " |"
    rule = "|---|---|---|" + "---:|" * len(names)
    rows = [
        f"| {i} | {code(p.finished_at[:16].replace('T', ' '), True)} | {code(p.trigger, True)} | "
        + " | ".join(fmt(p.metrics.get(m)) for m in names)
        + " |"
        for i, p in enumerate(points, 1)
    ]
    legend = "The flat line is the threshold the candidate must stay on the right side of."
    if not charts or all(bound is None for _, bound in metrics):
        legend = ""
    return "\n\n".join([*charts, *([legend] if legend else []), "\n".join([header, rule, *rows])])
