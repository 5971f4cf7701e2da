"""`retrain data append SPEC --from FILE.csv`: a user's own rows, checked against the table's
columns and the spec's numeric columns before anything is written, for any spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrain.cli.main import main

ROW = "13.1,2.0,5.1,990,class_1\n"


def append(new: str) -> int:
    Path("new.csv").write_text(new)
    return main(["data", "append", "specs/wine.yaml", "--from", "new.csv", "--no-publish"])


def test_own_rows_are_appended_in_the_tables_column_order(
    wine_checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = wine_checkout / "data" / "wine.csv"
    before = table.read_text().splitlines()
    # the same columns in another order
    new = "cultivar,proline,alcohol,malic_acid,color_intensity\nclass_1,990,13.1,2.0,5.1\n"
    assert append(new + "class_0,1100,14.0,1.5,6.0\n") == 0
    out = capsys.readouterr().out
    assert out.startswith("appended 2 rows of new.csv to data/wine.csv\n")
    entry = json.loads(out.split("\n", 1)[1])
    assert "wine" in json.dumps(entry)
    after = table.read_text().splitlines()
    assert after[: len(before)] == before
    assert after[len(before) :] == ["13.1,2.0,5.1,990,class_1", "14.0,1.5,6.0,1100,class_0"]


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            "alcohol,malic_acid,color_intensity,cultivar\n13.1,2.0,5.1,class_1\n",
            "new.csv: its columns must be those of data/wine.csv (alcohol, malic_acid, "
            "color_intensity, proline, cultivar); missing: proline",
        ),
        (
            "alcohol,malic_acid,color_intensity,proline,cultivar\nhigh,2.0,5.1,990,class_1\n",
            "new.csv: numeric columns hold text (line 2: alcohol 'high'); fix them before "
            "appending",
        ),
    ],
)
def test_rows_that_do_not_fit_are_refused_and_nothing_is_written(
    wine_checkout: Path, capsys: pytest.CaptureFixture[str], new: str, message: str
) -> None:
    table = wine_checkout / "data" / "wine.csv"
    before = table.read_bytes()
    assert append(new) == 2
    assert capsys.readouterr().err == f"retrain data: {message}\n"
    assert table.read_bytes() == before


def test_example_rows_are_for_the_example_specs_only(
    wine_checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "append", "specs/wine.yaml", "--rows", "5", "--no-publish"]) == 2
    assert "append your own rows with --from FILE.csv" in capsys.readouterr().err
