"""Schema changes of a local table (the CSV that plays a spec's BigQuery table), with the audit
entry BigQuery would log for the same change: what `retrain data drop-column` and the demo use
to show a schema-drift alert from a real column removal."""

from __future__ import annotations

import csv
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from retrain.data.local import local_source
from retrain.errors import RetrainError
from retrain.events.table_change import table_change_entry
from retrain.spec.model import Spec

# DuckDB's sniffed column types -> BigQuery's (legacy names, as BigQuery's schema JSON spells them).
_BIGQUERY_TYPES = {
    "BIGINT": "INTEGER",
    "INTEGER": "INTEGER",
    "SMALLINT": "INTEGER",
    "TINYINT": "INTEGER",
    "HUGEINT": "INTEGER",
    "DOUBLE": "FLOAT",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "VARCHAR": "STRING",
}


def table_columns(source: Path) -> list[tuple[str, str]]:
    """(name, BigQuery type) of the local table's columns, as DuckDB reads the CSV."""
    import duckdb

    with duckdb.connect() as db:
        rows = db.execute("DESCRIBE SELECT * FROM read_csv_auto(?, header = true)", [str(source)])
        described = rows.fetchall()
    return [
        (
            str(name),
            _BIGQUERY_TYPES.get(
                str(kind).split("(")[0], "FLOAT" if "DECIMAL" in str(kind) else "STRING"
            ),
        )
        for name, kind, *_ in described
    ]


def drop_column(spec: Spec, repo_root: Path, column: str, when: datetime) -> dict[str, Any]:
    """Remove `column` from the spec's local table (rewritten in place, atomically) and return
    the Admin Activity entry a `tables.patch` doing the same in BigQuery would log."""
    source = local_source(spec, repo_root)
    columns = table_columns(source)
    if column not in {name for name, _ in columns}:
        names = ", ".join(name for name, _ in columns)
        raise RetrainError(f"{source} has no column {column!r} (it has {names})")
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    at = rows[0].index(column)
    scratch = source.with_name(f".{source.name}.{uuid.uuid4().hex[:8]}")
    with scratch.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([v for i, v in enumerate(row) if i != at] for row in rows)
    os.replace(scratch, source)
    kept = [c for c in columns if c[0] != column]
    stamp = when.isoformat().replace("+00:00", "Z")
    return table_change_entry(spec.data.table, kept, f"drop-{uuid.uuid4().hex[:12]}", stamp)
