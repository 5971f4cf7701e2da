"""What each column of a CSV holds, read with Python's csv module: the facts `retrain init`
drafts a spec from (`retrain.spec.draft`)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from retrain.errors import RetrainError
from retrain.spec.draft import MAX_CLASSES, Column

MAX_ROWS = 1_000_000


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_columns(path: Path) -> list[Column]:
    """Each column's type (numeric when every present value is a number) and a few distinct
    values, from the first MAX_ROWS rows."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [c.strip() for c in next(reader, [])]
            if not header:
                raise RetrainError(f"{path} is empty; it needs a header line and rows")
            numeric = [True] * len(header)
            integral = [True] * len(header)
            distinct: list[set[str]] = [set() for _ in header]
            rows = 0
            for row in reader:
                if rows >= MAX_ROWS:
                    break
                rows += 1
                for i, cell in enumerate(row[: len(header)]):
                    cell = cell.strip()
                    if not cell:
                        continue
                    value = _number(cell)
                    if value is None:
                        numeric[i] = integral[i] = False
                    elif not value.is_integer():
                        integral[i] = False
                    if len(distinct[i]) <= MAX_CLASSES:
                        distinct[i].add(cell)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RetrainError(f"cannot read {path} as CSV: {exc}") from exc
    if rows == 0:
        raise RetrainError(f"{path} has a header but no rows")
    return [
        Column(
            name=name,
            numeric=numeric[i] and bool(distinct[i]),
            integral=integral[i] and numeric[i] and bool(distinct[i]),
            distinct=tuple(sorted(distinct[i])[:MAX_CLASSES]),
            many=len(distinct[i]) > MAX_CLASSES,
        )
        for i, name in enumerate(header)
    ]
