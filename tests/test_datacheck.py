"""Data errors are found before any TFX step, with one message naming spec, column and fix.

Each case runs the real local path: the spec's query through DuckDB over a CSV file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrain.data.local import facts_path, materialize
from retrain.errors import PipelineError
from retrain.spec import Spec
from retrain.spec.load import parse_spec
from tests.spec.test_validate import VALID
from tests.test_localdata import toy_spec as table


def rows(n: int, **overrides: object) -> list[dict[str, str]]:
    base = [
        {"age": str(20 + i % 50), "country": ["DE", "FR"][i % 2], "churned": str(i % 3 % 2)}
        for i in range(n)
    ]
    return [{**row, **{k: str(v) for k, v in overrides.items()}} for row in base]


def error(spec: Spec, tmp_path: Path) -> str:
    with pytest.raises(PipelineError) as caught:
        materialize(spec, tmp_path, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists(), "a refused table must not reach the pipeline"
    return str(caught.value)


def test_clean_table_passes_and_writes_facts(tmp_path: Path) -> None:
    spec = table(tmp_path, rows(100))
    assert materialize(spec, tmp_path, tmp_path / "out.csv") == 100
    facts = json.loads(facts_path(tmp_path / "out.csv").read_text())
    assert facts == {"rows_read": 100, "rows_dropped": {}}


def test_missing_labels_are_dropped_and_counted(tmp_path: Path) -> None:
    data = rows(100)
    for row in data[:7]:
        row["churned"] = ""
    data[10]["age"] = ""  # a missing feature stays: the trainer imputes it
    spec = table(tmp_path, data)
    assert materialize(spec, tmp_path, tmp_path / "out.csv") == 93
    facts = json.loads(facts_path(tmp_path / "out.csv").read_text())
    assert facts == {"rows_read": 100, "rows_dropped": {"label churned missing": 7}}


def test_drop_row_feature_policy_drops_and_counts(tmp_path: Path) -> None:
    data = rows(100)
    for row in data[:4]:
        row["age"] = ""
    data[50]["churned"] = ""
    text = VALID.replace("data/toy.csv", "toy.csv").replace(
        "{name: age, type: numeric}", "{name: age, type: numeric, missing: drop_row}"
    )
    table(tmp_path, data)
    spec = parse_spec(text, "toy.yaml")
    assert materialize(spec, tmp_path, tmp_path / "out.csv") == 95
    facts = json.loads(facts_path(tmp_path / "out.csv").read_text())
    assert facts["rows_dropped"] == {
        "label churned missing": 1,
        "feature age missing (missing: drop_row)": 4,
    }


def test_column_absent_from_the_data(tmp_path: Path) -> None:
    data = [{k: v for k, v in row.items() if k != "country"} for row in rows(100)]
    spec = table(tmp_path, data, "SELECT * FROM `my-project.analytics.customers`")
    message = error(spec, tmp_path)
    assert message == (
        "spec toy: column country: data.query does not select country (it selects: age, "
        "churned); select it there or fix the name in the spec"
    )


def test_label_with_one_class_only(tmp_path: Path) -> None:
    spec = table(tmp_path, rows(100, churned=0))
    message = error(spec, tmp_path)
    assert message == (
        "spec toy: column churned: the label has one value only ('0') in 100 rows; a "
        "classifier needs rows of every class: widen data.query or check the label"
    )


def test_text_in_a_numeric_feature(tmp_path: Path) -> None:
    data = rows(100)
    data[3]["age"] = "NA"
    data[4]["age"] = "thirty"
    message = error(table(tmp_path, data), tmp_path)
    assert message.startswith("spec toy: column age: is a numeric feature but holds text")
    assert "'NA', 'thirty'" in message
    assert "SAFE_CAST(age AS FLOAT64)" in message
    assert "or declare the feature categorical" in message


def test_empty_query_result(tmp_path: Path) -> None:
    query = "SELECT age, country, churned FROM `my-project.analytics.customers` WHERE age > 999"
    message = error(table(tmp_path, rows(100), query), tmp_path)
    assert "spec toy: the training query selected no rows" in message


def test_fewer_rows_than_the_split_needs(tmp_path: Path) -> None:
    data = rows(40)
    for row in data[:5]:
        row["churned"] = ""
    message = error(table(tmp_path, data), tmp_path)
    assert message == (
        "spec toy: 35 usable rows (of 40 read; 5 dropped: label churned missing), but a "
        "split of eval_fraction 0.2 needs at least 50; add rows or fix what drops them"
    )


def test_binary_label_that_is_not_zero_or_one(tmp_path: Path) -> None:
    data = rows(100)
    for i, row in enumerate(data):
        row["churned"] = ["left", "stayed"][i % 2]
    message = error(table(tmp_path, data), tmp_path)
    assert "column churned: a binary label must be 0 or 1, found 'left', 'stayed'" in message
    assert "CASE WHEN churned = 'yes' THEN 1 ELSE 0 END AS churned" in message


MULTICLASS = (
    VALID.replace("data/toy.csv", "toy.csv")
    .replace("task: binary_classification", "task: multiclass_classification")
    .replace("label: churned\n", "label: churned\nclasses: [low, mid, high]\n")
    .replace("{name: auc, min: 0.7, max_regression: 0.01}", "{name: accuracy, min: 0.5}")
)


def test_multiclass_label_outside_its_classes(tmp_path: Path) -> None:
    data = rows(100)
    for i, row in enumerate(data):
        row["churned"] = ["low", "mid", "high", "extreme"][i % 4]
    table(tmp_path, data)
    message = error(parse_spec(MULTICLASS, "toy.yaml"), tmp_path)
    assert message == (
        "spec toy: column churned: values 'extreme' are not among classes (low, mid, high); "
        "add them to classes or filter them out in data.query"
    )


def test_multiclass_integer_labels_must_be_class_ids(tmp_path: Path) -> None:
    data = rows(100)
    for i, row in enumerate(data):
        row["churned"] = str(i % 3)
    table(tmp_path, data)
    message = error(parse_spec(MULTICLASS, "toy.yaml"), tmp_path)
    assert "integer labels are class ids, so classes must be 0, 1, 2 in that order" in message


def test_validate_data_reports_from_the_command_line(tmp_path: Path) -> None:
    data = rows(100)
    data[0]["age"] = "unknown"
    table(tmp_path, data)
    spec_file = tmp_path / "toy.yaml"
    spec_file.write_text(VALID.replace("data/toy.csv", "toy.csv"))
    done = subprocess.run(
        [sys.executable, "-m", "retrain.cli.main", "validate", "--data", str(spec_file)],
        cwd=tmp_path,
        env={**os.environ, "RETRAIN_REPO_ROOT": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        f"{spec_file}:10: features.0.name: column age: is a numeric feature but holds text such "
        "as 'unknown'"
    ) in done.stderr
