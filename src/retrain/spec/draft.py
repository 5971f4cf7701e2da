"""A first spec for a user's own CSV (`retrain init`): features and their types, the task
guessed from the label, classes for a multiclass label, lenient thresholds to tighten later.

Pure: what the CSV's columns hold (`Column`) in, the spec's YAML text out. The text is then
validated like any spec, so a guess that does not fit fails where it is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrain.metrics import Task
from retrain.spec.model import IDENTIFIER_PATTERN

MAX_CLASSES = 20


class DraftError(ValueError):
    """The CSV cannot become a spec as it is (a bad column name, an unusable label)."""


@dataclass(frozen=True)
class Column:
    name: str
    numeric: bool  # every present value is a number
    integral: bool  # ... and a whole number
    distinct: tuple[str, ...]  # distinct present values, sorted (numbers as written), capped
    many: bool  # more distinct values than were kept


def guess_task(label: Column) -> tuple[Task, list[str] | None]:
    """The task a label's values suggest, and its classes for a multiclass label."""
    values = list(label.distinct)
    if label.numeric:
        ids = sorted({str(int(float(v))) for v in values}) if label.integral else []
        if label.integral and set(ids) <= {"0", "1"} and len(ids) == 2:
            return "binary_classification", None
        count = len(ids)
        class_ids = [str(i) for i in range(count)]
        few = label.integral and not label.many and 2 < count <= MAX_CLASSES
        if few and sorted(ids, key=int) == class_ids:
            return "multiclass_classification", class_ids
        return "regression", None
    if label.many or len(values) > MAX_CLASSES:
        raise DraftError(
            f"label {label.name} holds text with more than {MAX_CLASSES} distinct values; "
            "choose another column with --label"
        )
    if len(values) < 2:
        raise DraftError(f"label {label.name} has {len(values)} value(s); a model needs two")
    return "multiclass_classification", values


def _metrics(task: Task, classes: list[str] | None) -> list[str]:
    if task == "binary_classification":
        return ["{name: auc, min: 0.6, max_regression: 0.02}"]
    if task == "multiclass_classification":
        floor = round(min(0.9, 1 / len(classes or [1, 1]) + 0.1), 2)
        return [f"{{name: accuracy, min: {floor}, max_regression: 0.02}}"]
    return ["{name: rmse}", "{name: mae}"]


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def draft_spec(name: str, data_path: str, columns: list[Column], label: str) -> str:
    """The YAML text of a spec reading `data_path` (relative to the repository root)."""
    bad = [c.name for c in columns if not re.fullmatch(IDENTIFIER_PATTERN, c.name)]
    if bad:
        raise DraftError(
            f"column names {', '.join(repr(b) for b in bad)} are not plain names (letters, "
            "digits and _, not starting with a digit); rename them in the CSV's first line"
        )
    by_name = {c.name: c for c in columns}
    if label not in by_name:
        raise DraftError(f"no column {label!r} for the label (the columns: {', '.join(by_name)})")
    task, classes = guess_task(by_name[label])
    features = [c for c in columns if c.name != label]
    if not features:
        raise DraftError("the CSV has no column besides the label")
    table = f"my-project.my_dataset.{name.replace('-', '_')}"
    lines = [
        f"# {name}: written by `retrain init` from {data_path}; review every line.",
        f"name: {name}",
        'owner: "@your-team"                 # who reviews its runs',
        f"task: {task}",
        "data:",
        "  source: bigquery",
        f"  table: {table}   # the BigQuery table cloud runs read: set yours",
        f"  local: {{path: {data_path}}}   # what local runs read",
        "features:",
        *(
            f"  - {{name: {c.name}, type: {'numeric' if c.numeric else 'categorical'}}}"
            for c in features
        ),
        f"label: {label}",
    ]
    if classes:
        lines.append(f"classes: [{', '.join(_quoted(c) for c in classes)}]")
    lines += [
        "transform: false",
        "trainer:",
        "  module: pipelines.trainers.tabular",
        "  train_steps: 300   # batches of 64; on a large table, epochs: 1 instead (every row)",
        "evaluation:",
        "  metrics:   # tighten these once you know what good looks like",
        *(f"    - {m}" for m in _metrics(task, classes)),
        "promotion:",
        f"  registry_model: {name}",
    ]
    return "\n".join(lines) + "\n"
