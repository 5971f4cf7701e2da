"""Each data mistake a user makes with their own spec gets one plain line, before any SQL or
TFX: the spec file, the line and key at fault, what is wrong and what to do. No DuckDB or
pydantic wording reaches the user. Driven through `retrain validate`, as a user meets them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from retrain.cli.main import main

COLUMNS = "alcohol, malic_acid, color_intensity, proline, cultivar"
QUERY = (
    "  query: SELECT alcohol, malic_acid, color_intensity, proline, grape AS cultivar "
    "FROM `my-project.cellar.wine`\n"
)
INTERNALS = ("Binder", "DuckDB", "duckdb", "Candidate bindings", "pydantic", "Input should be")


def csv_lines(repo: Path) -> list[str]:
    return (repo / "data" / "wine.csv").read_text().splitlines(keepends=True)


def set_csv(text: str) -> Callable[[Path], None]:
    def write(repo: Path) -> None:
        (repo / "data" / "wine.csv").write_text(text)

    return write


def edit_spec(old: str, new: str) -> Callable[[Path], None]:
    def edit(repo: Path) -> None:
        spec = repo / "specs" / "wine.yaml"
        assert old in spec.read_text()
        spec.write_text(spec.read_text().replace(old, new))

    return edit


def regression(repo: Path) -> None:
    for old, new in (
        ("task: multiclass_classification", "task: regression"),
        ("classes: [class_0, class_1, class_2]\n", ""),
        ("{name: accuracy, min: 0.5}", "{name: rmse, max: 1.0}"),
    ):
        edit_spec(old, new)(repo)


def quantity_as_binary_label(repo: Path) -> None:
    for old, new in (
        ("task: multiclass_classification", "task: binary_classification"),
        ("classes: [class_0, class_1, class_2]\n", ""),
        ("  - {name: proline, type: numeric}\n", ""),
        ("label: cultivar", "label: proline"),
        ("{name: accuracy, min: 0.5}", "{name: auc, min: 0.5}"),
    ):
        edit_spec(old, new)(repo)


CASES = [
    pytest.param(
        lambda repo: (repo / "data" / "wine.csv").unlink(),
        "specs/wine.yaml:7: data.local.path: data/wine.csv does not exist; put the CSV there "
        "or fix data.local.path (relative to the repository root)",
        id="file-missing",
    ),
    pytest.param(
        set_csv(""),
        "specs/wine.yaml:7: data.local.path: data/wine.csv is empty (0 bytes); a CSV needs a "
        "first line naming the columns, then one line per example",
        id="file-empty",
    ),
    pytest.param(
        lambda repo: set_csv("".join(csv_lines(repo)[1:]))(repo),
        "specs/wine.yaml:7: data.local.path: data/wine.csv has no header: its first line "
        "(14.23, 1.71, 5.64, ...) holds values, not column names; add a first line naming the "
        "columns, e.g. alcohol,malic_acid,color_intensity,proline,cultivar",
        id="no-header",
    ),
    pytest.param(
        lambda repo: set_csv(csv_lines(repo)[0])(repo),
        "specs/wine.yaml:7: data.local.path: data/wine.csv has a header but no rows; add one "
        "line per example below it",
        id="no-rows",
    ),
    pytest.param(
        edit_spec("{name: alcohol,", "{name: Alcohl,"),
        "specs/wine.yaml:9: features.0.name: the spec names column Alcohl, which data/wine.csv "
        f"does not have (its columns: {COLUMNS}); did you mean alcohol?",
        id="column-absent",
    ),
    pytest.param(
        edit_spec("  local:", QUERY + "  local:"),
        "specs/wine.yaml:7: data.query: data.query names column grape, which data/wine.csv "
        f"does not have (its columns: {COLUMNS})",
        id="query-column-absent",
    ),
    pytest.param(
        regression,
        "specs/wine.yaml:3: task: column cultivar: the label holds text such as 'class_0', "
        "'class_1', 'class_2', but task regression predicts a number; if these are classes, "
        "set task: multiclass_classification and classes: [class_0, class_1, class_2]",
        id="text-label-on-regression",
    ),
    pytest.param(
        quantity_as_binary_label,
        "specs/wine.yaml:3: task: column proline: a binary label must be 0 or 1, but it holds "
        "121 distinct numbers such as '1015', '1020', '1035', ...; if it is a quantity, set "
        "task: regression",
        id="quantity-as-binary-label",
    ),
    pytest.param(
        edit_spec("classes: [class_0, class_1, class_2]", "classes: [0, 1, 2]"),
        'specs/wine.yaml:14: classes: class names are text: quote them, classes: ["0", "1", "2"]',
        id="integer-classes",
    ),
]


@pytest.mark.parametrize(("mistake", "message"), CASES)
def test_each_data_mistake_gets_one_plain_line(
    wine_checkout: Path,
    capsys: pytest.CaptureFixture[str],
    mistake: Callable[[Path], None],
    message: str,
) -> None:
    assert main(["validate", "--data", "specs/wine.yaml"]) == 0, capsys.readouterr()
    capsys.readouterr()
    mistake(wine_checkout)
    assert main(["validate", "--data", "specs/wine.yaml"]) == 1
    err = capsys.readouterr().err
    assert message in err.splitlines(), err
    assert not [word for word in INTERNALS if word in err], err


def test_plain_validate_notes_a_missing_file_without_failing(
    wine_checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cloud runs read BigQuery and CI may not hold the file: a note, not a failure."""
    (wine_checkout / "data" / "wine.csv").unlink()
    assert main(["validate", "specs/wine.yaml"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "note: specs/wine.yaml:7: data.local.path: data/wine.csv does not exist; put the CSV "
        "there or fix data.local.path (relative to the repository root) (local runs need it; "
        "`retrain validate --data` checks it)"
    ]


def test_integer_classes_are_one_problem_not_one_per_class(
    wine_checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_spec("classes: [class_0, class_1, class_2]", "classes: [0, 1, 2]")(wine_checkout)
    assert main(["validate", "specs/wine.yaml"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        'specs/wine.yaml:14: classes: class names are text: quote them, classes: ["0", "1", "2"]'
    ]
