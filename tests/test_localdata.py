"""The BigQuery stand-in: the spec's query runs on DuckDB over the local CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from retrain.data.local import local_query, materialize
from retrain.errors import PipelineError
from retrain.spec import Spec
from retrain.spec.load import parse_spec
from tests.spec.test_validate import VALID

# Thirty copies of three rows: a run refuses fewer rows than its train/eval split needs.
ROWS = [
    {"age": "31", "country": "DE", "churned": "1", "unused": "x"},
    {"age": "45", "country": "FR", "churned": "0", "unused": "y"},
    {"age": "52", "country": "DE", "churned": "0", "unused": "z"},
] * 30


def toy_spec(tmp_path: Path, rows: list[dict[str, str]], query: str | None = None) -> Spec:
    """The toy spec reading `rows` from tmp_path/toy.csv, with `query` when given."""
    text = VALID.replace("data/toy.csv", "toy.csv")
    if query is not None:
        text = text.replace("  local:\n", f'  query: "{query}"\n  local:\n')
    with (tmp_path / "toy.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return parse_spec(text, "toy.yaml")


def spec_with(query: str | None, tmp_path: Path) -> Spec:
    return toy_spec(tmp_path, ROWS, query)


def read(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_default_query_selects_features_and_label(tmp_path: Path) -> None:
    spec = spec_with(None, tmp_path)
    out = tmp_path / "out" / "toy.csv"
    assert materialize(spec, tmp_path, out) == 90
    assert read(out)[0] == {"age": "31", "country": "DE", "churned": "1"}


def test_where_clause_and_backticked_table_are_honoured(tmp_path: Path) -> None:
    query = (
        "SELECT age, country, churned FROM `my-project.analytics.customers` WHERE country = 'DE'"
    )
    spec = spec_with(query, tmp_path)
    out = tmp_path / "out.csv"
    assert materialize(spec, tmp_path, out) == 60
    assert [row["age"] for row in read(out)] == ["31", "52"] * 30


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "SELECT age FROM `other-project.x.y`",
            "reads other-project.x.y, but local runs only have",
        ),
        ("SELECT age, country FROM `my-project.analytics.customers`", "does not select churned"),
        (
            "SELECT age, country, churned FROM `my-project.analytics.customers` WHERE age > 99",
            "selected no rows",
        ),
        ("SELEKT nonsense FROM", "is not valid BigQuery SQL"),
    ],
)
def test_queries_that_cannot_run_locally_say_why(tmp_path: Path, query: str, message: str) -> None:
    spec = spec_with(query, tmp_path)
    with pytest.raises(PipelineError, match=message):
        materialize(spec, tmp_path, tmp_path / "out.csv")


def test_missing_local_file(tmp_path: Path) -> None:
    spec = spec_with(None, tmp_path)
    (tmp_path / "toy.csv").unlink()
    with pytest.raises(PipelineError, match="does not exist"):
        materialize(spec, tmp_path, tmp_path / "out.csv")


def test_query_is_translated_to_duckdb(tmp_path: Path) -> None:
    spec = spec_with(
        "SELECT SAFE_DIVIDE(age, 2) AS age, country, churned FROM `my-project.analytics.customers`",
        tmp_path,
    )
    assert "retrain_source" in local_query(spec, "2026-11-20T05:00:00Z")


def test_a_snapshot_is_the_rows_of_its_first_run_and_a_new_one_selects_again(
    tmp_path: Path,
) -> None:
    import hashlib
    import json

    from retrain.data.local import facts_path, snapshot_input

    spec = spec_with(None, tmp_path)
    root = tmp_path / "work" / "toy"
    first = snapshot_input(spec, tmp_path, root, "2026-11-20T05:00:00Z")
    facts = json.loads(facts_path(first).read_text())
    assert facts["rows_snapshot"] == 90
    assert facts["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    stamp = first.stat().st_mtime_ns

    toy_spec(tmp_path, ROWS * 2)  # rows land in the table afterwards
    again = snapshot_input(spec, tmp_path, root, "2026-11-20T05:00:00Z")
    assert again == first and len(read(again)) == 90  # the same rows, the same file
    assert again.stat().st_mtime_ns == stamp  # untouched: TFX's ExampleGen fingerprint holds
    later = snapshot_input(spec, tmp_path, root, "2026-11-21T05:00:00Z")
    assert later != first and len(read(later)) == 180

    with pytest.raises(PipelineError, match="is not YYYY-MM-DDTHH:MM:SSZ"):
        snapshot_input(spec, tmp_path, root, "../../etc")
