"""A classifier's confusion matrix as markdown tables: one for the candidate, one for
production, rows the actual class, columns the predicted one (per class for multiclass)."""

from __future__ import annotations

from collections.abc import Sequence

from retrain.report.escape import code
from retrain.summary import ConfusionCell

MAX_CLASSES = 20  # a wider matrix is unreadable in a comment; the summary keeps it all
TITLES = {"candidate": "Candidate", "baseline": "Production"}


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _table(cells: Sequence[ConfusionCell], classes: Sequence[str]) -> str:
    counts = {(c.actual, c.predicted): c.count for c in cells}
    predicted = [*classes, *(["none"] if any(c.predicted == "none" for c in cells) else [])]
    header = "| actual ↓ / predicted → | " + " | ".join(code(p, True) for p in predicted) + " |"
    lines = [header, "|---|" + "---:|" * len(predicted)]
    for actual in classes:
        row = [_count(counts.get((actual, p), 0.0)) for p in predicted]
        right = counts.get((actual, actual), 0.0)
        total = sum(counts.get((actual, p), 0.0) for p in predicted)
        row[predicted.index(actual)] = f"**{row[predicted.index(actual)]}**"
        recall = f" ({right / total:.0%} right)" if total else ""
        lines.append(f"| {code(actual, True)}{recall} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def confusion_section(cells: Sequence[ConfusionCell]) -> str:
    """Both models' matrices, in the order the classes first appear; empty without cells."""
    if not cells:
        return ""
    classes: list[str] = []
    for cell in cells:
        for name in (cell.actual, cell.predicted):
            if name != "none" and name not in classes:
                classes.append(name)
    if len(classes) > MAX_CLASSES:
        return f"The confusion matrix has {len(classes)} classes: too wide here; see the summary."
    parts = []
    for model in ("candidate", "baseline"):
        mine = [c for c in cells if c.model == model]
        if mine:
            parts.append(f"**{TITLES[model]}**\n\n{_table(mine, classes)}")
    return "\n\n".join(parts)
