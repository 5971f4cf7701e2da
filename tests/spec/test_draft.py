"""`retrain init`'s guesses: column types, the task from the label, classes as quoted strings,
and the data path relative to the repository; the spec it writes validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrain.cli.main import main
from retrain.data.columns import read_columns
from retrain.spec import load_spec
from retrain.spec.draft import Column, DraftError, guess_task


def column(values: list[str], name: str = "y") -> Column:
    numbers = []
    for v in values:
        try:
            numbers.append(float(v))
        except ValueError:
            numbers = []
            break
    return Column(
        name=name,
        numeric=bool(numbers),
        integral=bool(numbers) and all(n.is_integer() for n in numbers),
        distinct=tuple(sorted(set(values))),
        many=False,
    )


@pytest.mark.parametrize(
    ("values", "task", "classes"),
    [
        (["0", "1"], "binary_classification", None),
        (["0", "1", "2"], "multiclass_classification", ["0", "1", "2"]),
        (["1", "2", "3"], "regression", None),  # not class ids 0..n-1
        (["1.5", "2.25", "7"], "regression", None),
        (["low", "mid", "high"], "multiclass_classification", ["high", "low", "mid"]),
        (["no", "yes"], "multiclass_classification", ["no", "yes"]),
    ],
)
def test_the_task_follows_from_the_label(
    values: list[str], task: str, classes: list[str] | None
) -> None:
    assert guess_task(column(values)) == (task, classes)


def test_a_label_with_one_value_is_refused() -> None:
    with pytest.raises(DraftError, match="label y has 1 value"):
        guess_task(column(["a"]))


def test_init_writes_a_valid_spec_from_a_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "\n".join(f"{i % 7 * 1.5},{['a', 'b'][i % 2]},{i % 3}" for i in range(90))
    outside = tmp_path / "elsewhere" / "kinds.csv"
    outside.parent.mkdir()
    outside.write_text("size,colour,kind\n" + rows + "\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    monkeypatch.setenv("RETRAIN_REPO_ROOT", str(repo))
    assert main(["init", "kinds", "--csv", str(outside), "--no-schema"]) == 0
    out = capsys.readouterr().out
    assert "copied    " in out and "to data/kinds.csv" in out
    assert "retrain run kinds --local" in out
    spec = load_spec(repo / "specs" / "kinds.yaml")
    assert spec.task == "multiclass_classification" and spec.classes == ["0", "1", "2"]
    assert [(f.name, f.type) for f in spec.features] == [
        ("size", "numeric"),
        ("colour", "categorical"),
    ]
    assert spec.data.local.path == "data/kinds.csv"
    assert 'classes: ["0", "1", "2"]' in (repo / "specs" / "kinds.yaml").read_text()
    assert [c.name for c in read_columns(repo / "data" / "kinds.csv")] == [
        "size",
        "colour",
        "kind",
    ]
    assert main(["init", "kinds", "--csv", str(outside), "--no-schema"]) == 2
    assert "specs/kinds.yaml exists already (--force overwrites it)" in capsys.readouterr().err
