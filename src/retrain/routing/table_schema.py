"""A watched table's new schema against the spec that reads it: pure, decided at once.

A column the spec reads that is gone (removed or renamed) or whose type no longer fits what
the spec says is an **alert**: the next run would fail, so the owner hears now, before any run
does. A column the spec does not read is a **notice**: new data the spec could use (BigQuery's
entry carries the schema after the change only, so a column the spec has never read is listed
too). Neither starts a run.

With `data.query`, the columns the spec reads are the ones the query names (its own aliases
and common table expressions left out), and types are not judged: the query may cast them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from retrain.events.types import TableColumn, TableSchemaChange
from retrain.spec.model import Spec

# BigQuery types by what a spec column may be (legacy and standard SQL names alike).
NUMBERS = {"INTEGER", "INT64", "FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC", "DECIMAL",
           "BIGDECIMAL"}  # fmt: skip
INTEGERS = {"INTEGER", "INT64", "BOOLEAN", "BOOL"}
CATEGORIES = {"STRING", "INTEGER", "INT64", "BOOLEAN", "BOOL"}


@dataclass(frozen=True)
class SchemaVerdict:
    level: Literal["alert", "notice", "none"]
    reason: str
    gone: tuple[str, ...] = ()
    retyped: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()


def _allowed(spec: Spec, column: str) -> set[str]:
    declared = {f.name: f.type for f in spec.features}
    if column in declared:
        return NUMBERS if declared[column] == "numeric" else CATEGORIES
    return {
        "regression": NUMBERS,
        "binary_classification": INTEGERS,
        "multiclass_classification": CATEGORIES,
    }[spec.task]


def read_columns(spec: Spec) -> list[str]:
    """The table columns a run of `spec` reads."""
    if spec.data.query is None:
        return [*spec.feature_names, spec.label]
    from sqlglot import exp

    from retrain.spec.sql import checked_query

    tree = checked_query(spec.data.query, spec.data.table)
    defined = {a.alias for a in tree.find_all(exp.Alias)}
    defined |= {c.alias_or_name for c in tree.find_all(exp.CTE)}
    named = [c.name for c in tree.find_all(exp.Column) if c.name]
    return sorted(set(named) - defined) or [*spec.feature_names, spec.label]


def _retyped(spec: Spec, column: str, found: TableColumn) -> str | None:
    if found.mode == "REPEATED":
        return f"{column} is now REPEATED"
    allowed = _allowed(spec, column)
    if found.type not in allowed:
        role = "the label" if column == spec.label else "a feature"
        return f"{column} is now {found.type}, which {role} of {spec.name} cannot read"
    return None


def schema_verdict(spec: Spec, change: TableSchemaChange) -> SchemaVerdict:
    by_name = {c.name: c for c in change.columns}
    wanted = read_columns(spec)
    gone = [c for c in wanted if c not in by_name]
    judged = [c for c in wanted if c in by_name] if spec.data.query is None else []
    retyped = [why for c in judged if (why := _retyped(spec, c, by_name[c]))]
    unused = [c.name for c in change.columns if c.name not in wanted]
    where = f"{change.table} ({change.how.lower().replace('_', ' ')})"
    if gone or retyped:
        parts = []
        if gone:
            hint = f"; columns it does not read: {', '.join(unused[:10])}" if unused else ""
            parts.append(f"gone (removed or renamed): {', '.join(gone)}{hint}")
        parts += retyped
        return SchemaVerdict(
            "alert",
            f"schema drift in {where}: {'; '.join(parts)}; runs of {spec.name} would fail: "
            "fix the table or the spec (and its schema)",
            tuple(gone),
            tuple(retyped),
            tuple(unused),
        )
    if unused:
        return SchemaVerdict(
            "notice",
            f"schema of {where} changed; columns {spec.name} does not read (new or unused): "
            f"{', '.join(unused[:20])}{' ...' if len(unused) > 20 else ''}",
            unused=tuple(unused),
        )
    return SchemaVerdict("none", f"schema of {where} changed; every column {spec.name} reads fits")
