"""A user's own new rows appended to a spec's local table (`retrain data append --from`),
checked first: the same columns as the table, numbers where the spec expects numbers."""

from __future__ import annotations

import csv
from pathlib import Path

from retrain.data.local import local_source
from retrain.errors import RetrainError
from retrain.spec.model import Spec

SHOWN = 5


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [c.strip() for c in next(reader, [])]
            rows = [row for row in reader if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RetrainError(f"cannot read {path} as CSV: {exc}") from exc
    return header, rows


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def append_rows(spec: Spec, repo_root: Path, new: Path) -> int:
    """Append the rows of CSV `new` to the spec's local table; return how many. Nothing is
    written unless every row fits."""
    table = local_source(spec, repo_root)
    columns, _ = _read(table)
    header, rows = _read(new)
    missing = [c for c in columns if c not in header]
    extra = [c for c in header if c not in columns]
    if missing or extra:
        raise RetrainError(
            f"{new}: its columns must be those of {spec.data.local.path} ({', '.join(columns)})"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; not in the table: {', '.join(extra)}" if extra else "")
        )
    if not rows:
        raise RetrainError(f"{new} has a header but no rows")
    numeric = [f.name for f in spec.features if f.type == "numeric"]
    if spec.task == "regression":
        numeric.append(spec.label)
    where = {name: header.index(name) for name in columns}
    bad = [
        f"line {n}: {name} {row[where[name]]!r}"
        for n, row in enumerate(rows, start=2)
        for name in numeric
        if name in where
        and where[name] < len(row)
        and row[where[name]].strip()
        and not _number(row[where[name]].strip())
    ]
    if bad:
        raise RetrainError(
            f"{new}: numeric columns hold text ({'; '.join(bad[:SHOWN])}"
            + (", ..." if len(bad) > SHOWN else "")
            + "); fix them before appending"
        )
    short = [n for n, row in enumerate(rows, start=2) if len(row) < len(header)]
    if short:
        raise RetrainError(f"{new}: line {short[0]} has fewer values than columns")
    text = table.read_bytes()
    with table.open("a", newline="", encoding="utf-8") as handle:
        if text and not text.endswith(b"\n"):
            handle.write("\n")
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow([row[where[name]] for name in columns])
    return len(rows)
