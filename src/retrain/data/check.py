"""Data errors a run would hit, found before the expensive part from a profile of the table.

Pure: `CsvFacts` (what the local file holds, read without SQL: size, header, a first row) and
a `TableProfile` (what the training query selected: columns, types, a few bad values, label
values, row counts) in, problems out. The file's facts are judged first, so a missing, empty
or headerless file, or a column the spec names that the file lacks, is said in plain words
before any SQL runs. Each problem names the spec (its file and the line of the key at fault,
when the caller knows the file), the column and what to do, instead of the TensorFlow
traceback the same data would give minutes later. Local runs and `retrain validate --data`
read the local table with DuckDB (`retrain.data.local`).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

from retrain.spec.model import Spec
from retrain.spec.yaml_lines import line_of

Key = tuple[str | int, ...]

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
    all_text: frozenset[str] = frozenset()  # numeric columns none of whose values is a number


@dataclass(frozen=True)
class CsvFacts:
    """The local file as read without SQL: enough to name the basic mistakes."""

    path: str  # as the spec writes it (data.local.path)
    exists: bool
    size: int = 0
    header: list[str] = field(default_factory=list)
    has_rows: bool = False  # a line after the header


@dataclass(frozen=True)
class DataProblem:
    spec: str
    column: str
    message: str
    key: Key = ("data",)  # the spec key at fault: its line, when the spec file is known

    def __str__(self) -> str:
        return f"spec {self.spec}: {self._body()}"

    def _body(self) -> str:
        return (f"column {self.column}: " if self.column else "") + self.message

    def located(self, file: str, lines: dict[Key, int]) -> str:
        """`FILE:LINE: key: message`, as `retrain validate` writes spec problems."""
        dotted = ".".join(str(part) for part in self.key)
        return f"{file}:{line_of(lines, self.key)}: {dotted}: {self._body()}"


def key_of(spec: Spec, column: str) -> Key:
    """The spec key that names `column`: a feature's name, the label, else data.query."""
    if column == spec.label:
        return ("label",)
    for index, feature in enumerate(spec.features):
        if feature.name == column:
            return ("features", index, "name")
    return ("data", "query") if spec.data.query else ("data",)


def _looks_like_values(cells: list[str]) -> bool:
    """A first line holding a number is data, not column names (an empty name, as pandas
    writes for its index, is not a number)."""

    def number(cell: str) -> bool:
        try:
            float(cell)
        except ValueError:
            return False
        return True

    return any(number(c.strip()) for c in cells if c.strip())


def did_you_mean(name: str, choices: list[str]) -> str:
    lowered = {c.lower(): c for c in choices}
    close = [lowered[name.lower()]] if name.lower() in lowered else []
    close = close or difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def absent_column(spec: Spec, name: str, facts: CsvFacts, reader: str) -> DataProblem:
    """`reader` (the spec, or data.query) names a column the file does not have."""
    columns = ", ".join(facts.header)
    return DataProblem(
        spec.name,
        "",
        f"{reader} names column {name}, which {facts.path} does not have (its columns: "
        f"{columns}){did_you_mean(name, facts.header)}",
        key_of(spec, name),
    )


def file_problems(spec: Spec, facts: CsvFacts) -> list[DataProblem]:
    """The file itself: there, not empty, a header, rows, and (with the default query, which
    selects the features and the label by name) every column the spec names."""
    path = facts.path
    key: Key = ("data", "local", "path")

    def one(message: str) -> list[DataProblem]:
        return [DataProblem(spec.name, "", message, key)]

    if not facts.exists:
        return one(
            f"{path} does not exist; put the CSV there or fix data.local.path (relative to "
            "the repository root)"
        )
    if facts.size == 0:
        return one(
            f"{path} is empty (0 bytes); a CSV needs a first line naming the columns, then "
            "one line per example"
        )
    names = [*spec.feature_names, spec.label]
    if not facts.header or _looks_like_values(facts.header):
        first = ", ".join(facts.header[:SHOWN]) + (", ..." if len(facts.header) > SHOWN else "")
        return one(
            f"{path} has no header: its first line ({first}) holds values, not column names; "
            f"add a first line naming the columns, e.g. {','.join(names)}"
        )
    if not facts.has_rows:
        return one(f"{path} has a header but no rows; add one line per example below it")
    if spec.data.query is not None:
        return []  # the query may rename or compute columns: its result is checked instead
    return [absent_column(spec, n, facts, "the spec") for n in names if n not in facts.header]


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
        key = key_of(spec, column) if column else ("data", "query") if spec.data.query else ()
        found.append(DataProblem(spec.name, column, message, key or ("data",)))

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
        if name == spec.label and name in profile.all_text:
            found.append(_text_label(spec, profile))
            continue
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


MAX_CLASSES = 20  # more distinct values than this: not classes


def _text_label(spec: Spec, profile: TableProfile) -> DataProblem:
    """A regression whose label is text throughout: it is most likely a classification."""
    values = profile.label_values
    shown = _quoted(profile.text_in_numeric[spec.label])
    if len(values) == 2:
        advice = (
            "if it has two classes, set task: binary_classification and map them to 0/1 in "
            f"data.query (CASE WHEN {spec.label} = {values[1]!r} THEN 1 ELSE 0 END AS "
            f"{spec.label})"
        )
    elif 2 < len(values) <= MAX_CLASSES:
        advice = (
            "if these are classes, set task: multiclass_classification and classes: "
            f"[{', '.join(values)}]"
        )
    else:
        advice = f"select a numeric column as the label, or SAFE_CAST({spec.label} AS FLOAT64)"
    return DataProblem(
        spec.name,
        spec.label,
        f"the label holds text such as {shown}, but task regression predicts a number; {advice}",
        ("task",),
    )


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
                ("label",),
            )
        )
    if spec.task == "binary_classification":
        bad = [v for v in values if v not in ("0", "1")]
        quantity = profile.columns.get(label) == "number" and len(values) > MAX_CLASSES
        if quantity:
            out.append(
                DataProblem(
                    spec.name,
                    label,
                    f"a binary label must be 0 or 1, but it holds {len(values)} distinct numbers "
                    f"such as {_quoted(bad)}; if it is a quantity, set task: regression",
                    ("task",),
                )
            )
        elif bad:
            out.append(
                DataProblem(
                    spec.name,
                    label,
                    f"a binary label must be 0 or 1, found {_quoted(bad)}; map it in "
                    f"data.query, e.g. CASE WHEN {label} = 'yes' THEN 1 ELSE 0 END AS {label}",
                    ("label",),
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
                ("classes",),
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
                    ("classes",),
                )
            )
    return out
