"""Data errors a run would hit, found before the expensive part from a profile of the table.

Pure: a `TableProfile` (what the training query selected: columns, types, a few bad values,
label values, row counts) in, problems out. Each problem names the spec, the column and what
to do, instead of the TensorFlow traceback the same data would give minutes later. Local
runs and `retrain validate --data` profile the local table with DuckDB (`retrain.data.local`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from retrain.spec.model import Spec

# Each split must have at least this many rows for its metrics to mean anything.
MIN_ROWS_PER_SPLIT = 10
SHOWN = 3


@dataclass(frozen=True)
class TableProfile:
    """What the training query selected, summarised."""

    columns: dict[str, str]  # column -> "number" | "text" | other type name
    rows: int  # rows kept for training (label present, no drop_row feature missing)
    rows_read: int = 0  # rows the query selected
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows
    text_in_numeric: dict[str, list[str]] = field(default_factory=dict)  # column -> samples
    label_values: list[str] = field(default_factory=list)  # distinct, sorted, capped


@dataclass(frozen=True)
class DataProblem:
    spec: str
    column: str
    message: str

    def __str__(self) -> str:
        where = f"column {self.column}: " if self.column else ""
        return f"spec {self.spec}: {where}{self.message}"


def kept_rows_filter(spec: Spec) -> list[tuple[str, str]]:
    """(reason, SQL condition that drops the row) in order: a missing label, then each
    feature whose spec says `missing: drop_row`. Cloud runs apply the same conditions."""
    reasons = [(f"label {spec.label} missing", f"{spec.label} IS NULL")]
    reasons += [
        (f"feature {f.name} missing (missing: drop_row)", f"{f.name} IS NULL")
        for f in spec.features
        if f.missing_policy == "drop_row"
    ]
    return reasons


def min_rows(spec: Spec) -> int:
    smaller = min(spec.evaluation.eval_fraction, 1 - spec.evaluation.eval_fraction)
    return math.ceil(MIN_ROWS_PER_SPLIT / smaller)


def _quoted(values: list[str]) -> str:
    return ", ".join(repr(v) for v in values[:SHOWN]) + (", ..." if len(values) > SHOWN else "")


def problems(spec: Spec, profile: TableProfile) -> list[DataProblem]:
    """Everything that would make the run fail or train on nonsense, most basic first."""
    found: list[DataProblem] = []

    def add(column: str, message: str) -> None:
        found.append(DataProblem(spec.name, column, message))

    kinds = {f.name: f.type for f in spec.features}
    selected = ", ".join(profile.columns) or "none"
    for name in [*spec.feature_names, spec.label]:
        if name not in profile.columns:
            add(
                name,
                f"data.query does not select {name} (it selects: {selected}); select it "
                "there or fix the name in the spec",
            )
    if found:
        return found
    for name, samples in profile.text_in_numeric.items():
        role = "the label" if name == spec.label else "a numeric feature"
        add(
            name,
            f"is {role} but holds text such as {_quoted(samples)}; clean it in data.query "
            f"(e.g. SAFE_CAST({name} AS FLOAT64), which turns bad values into NULL)"
            + (", or declare the feature categorical" if kinds.get(name) == "numeric" else ""),
        )
    if profile.rows_read == 0:
        add("", "the training query selected no rows; check data.query and the table")
        return found
    dropped = "".join(f"; {n} dropped: {why}" for why, n in profile.dropped.items())
    if profile.rows < min_rows(spec):
        add(
            "",
            f"{profile.rows} usable rows (of {profile.rows_read} read{dropped}), but a split "
            f"of eval_fraction {spec.evaluation.eval_fraction} needs at least {min_rows(spec)}; "
            "add rows or fix what drops them",
        )
    found += _label_problems(spec, profile)
    return found


def _label_problems(spec: Spec, profile: TableProfile) -> list[DataProblem]:
    values = profile.label_values
    label = spec.label
    if spec.task == "regression" or profile.rows == 0 or label in profile.text_in_numeric:
        return []
    out = []
    if len(values) == 1:
        out.append(
            DataProblem(
                spec.name,
                label,
                f"the label has one value only ({values[0]!r}) in {profile.rows} rows; a "
                "classifier needs rows of every class: widen data.query or check the label",
            )
        )
    if spec.task == "binary_classification":
        bad = [v for v in values if v not in ("0", "1")]
        if bad:
            out.append(
                DataProblem(
                    spec.name,
                    label,
                    f"a binary label must be 0 or 1, found {_quoted(bad)}; map it in "
                    f"data.query, e.g. CASE WHEN {label} = 'yes' THEN 1 ELSE 0 END AS {label}",
                )
            )
    numeric_label = profile.columns.get(label) == "number"
    ids = [str(i) for i in range(len(spec.classes or []))]
    if spec.task == "multiclass_classification" and numeric_label and spec.classes != ids:
        out.append(
            DataProblem(
                spec.name,
                label,
                f"integer labels are class ids, so classes must be {', '.join(ids)} in that "
                "order; or select the label as text in data.query",
            )
        )
    elif spec.task == "multiclass_classification":
        unknown = [v for v in values if v not in (spec.classes or [])]
        if unknown:
            out.append(
                DataProblem(
                    spec.name,
                    label,
                    f"values {_quoted(unknown)} are not among classes "
                    f"({', '.join(spec.classes or [])}); add them to classes or filter them "
                    "out in data.query",
                )
            )
    return out
