"""Spec validation: the example specs pass, and each broken spec gets its exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrain.cli.main import main
from retrain.data.samples import example_spec_files
from retrain.errors import SpecError
from retrain.spec import load_specs

REPO = Path(__file__).resolve().parents[2]

VALID = """\
name: toy
owner: "@team/ml"
task: binary_classification
data:
  source: bigquery
  table: my-project.analytics.customers
  local:
    path: data/toy.csv
features:
  - {name: age, type: numeric}
  - {name: country, type: categorical}
label: churned
trainer:
  module: pipelines.trainers.tabular
  train_steps: 100
evaluation:
  metrics:
    - {name: auc, min: 0.7, max_regression: 0.01}
  slices:
    - [country]
triggers:
  data_arrival: {min_new_rows: 100, debounce: 6h}
  drift: {action: retrain}
  schedule: "0 5 * * 1"
promotion:
  registry_model: toy
"""


TOY_SCHEMA = """\
feature { name: "age" type: INT }
feature { name: "country" type: BYTES domain: "country" }
feature { name: "churned" type: INT shape { dim { size: 1 } } }
string_domain { name: "country" value: "nl" value: "pt" }
"""


def write(tmp_path: Path, text: str, name: str = "toy") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    (tmp_path / f"{name}.schema.pbtxt").write_text(TOY_SCHEMA)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_specs([path])
    return [str(p).removeprefix(str(path.parent) + "/") for p in caught.value.problems]


def test_example_specs_are_valid() -> None:
    specs = load_specs(example_spec_files(REPO / "specs"))  # a user's own specs may sit beside
    assert {s.name for s in specs} == {"churn", "house-prices"}
    assert {s.task for s in specs} == {"binary_classification", "regression"}


def test_valid_spec_loads_with_defaults(tmp_path: Path) -> None:
    (spec,) = load_specs([write(tmp_path, VALID)])
    assert spec.name == "toy"
    assert spec.triggers.data_arrival is not None
    assert spec.triggers.data_arrival.max_concurrent_runs == 1
    assert spec.resources.data_processing.runner == "direct"
    assert spec.resources.training is None and spec.resources.step is None
    assert spec.training_query() == (
        "SELECT age, country, churned FROM `my-project.analytics.customers`"
    )


def test_fingerprint_changes_with_content(tmp_path: Path) -> None:
    (a,) = load_specs([write(tmp_path, VALID)])
    (b,) = load_specs([write(tmp_path, VALID.replace("train_steps: 100", "train_steps: 101"))])
    assert a.fingerprint() != b.fingerprint()
    assert len(a.fingerprint()) == 12


BROKEN = [
    pytest.param(
        VALID.replace("owner:", "ownr:"),
        [
            "toy.yaml:1: owner: required field is missing",
            "toy.yaml:2: ownr: unknown field; did you mean 'owner'? (allowed: name, owner, "
            "description, task, data, features, label, classes, transform, trainer, evaluation, "
            "triggers, resources, promotion)",
        ],
        id="misspelt-key",
    ),
    pytest.param(
        VALID.replace("train_steps: 100", "train_steps: many"),
        ["toy.yaml:15: trainer.train_steps: Input should be a valid integer"],
        id="wrong-type",
    ),
    pytest.param(
        VALID.replace("train_steps: 100", "train_steps: 0"),
        ["toy.yaml:15: trainer.train_steps: Input should be greater than 0"],
        id="zero-steps",
    ),
    pytest.param(
        VALID.replace("my-project.analytics.customers", "analytics.customers"),
        [
            "toy.yaml:6: data.table: 'analytics.customers' is not a BigQuery table as "
            "project.dataset.table, e.g. my-project.sales.orders"
        ],
        id="table-not-qualified",
    ),
    pytest.param(
        VALID.replace('"0 5 * * 1"', '"0 25 * * 1"'),
        ["toy.yaml:24: triggers.schedule: hour field '25': 25 is outside 0-23"],
        id="cron-hour",
    ),
    pytest.param(
        VALID.replace('"0 5 * * 1"', '"every monday"'),
        [
            "toy.yaml:24: triggers.schedule: expected 5 fields (minute hour day-of-month month "
            "day-of-week), got 2"
        ],
        id="cron-shape",
    ),
    pytest.param(
        VALID.replace("min: 0.7", "min: 1.5"),
        ["toy.yaml:18: evaluation.metrics.0.min: min 1.5 is outside the range of auc [0.0, 1.0]"],
        id="threshold-out-of-range",
    ),
    pytest.param(
        VALID.replace("max_regression: 0.01", "max_regression: -0.01"),
        [
            "toy.yaml:18: evaluation.metrics.0.max_regression: Input should be greater than or "
            "equal to 0"
        ],
        id="negative-regression",
    ),
    pytest.param(
        VALID.replace("{name: auc,", "{name: rmse,").replace("min: 0.7", "max: 3"),
        [
            "toy.yaml:18: evaluation.metrics.0.name: metric 'rmse' does not apply to task "
            "'binary_classification'"
        ],
        id="metric-task-mismatch",
    ),
    pytest.param(
        VALID.replace("- [country]", "- [city]"),
        [
            "toy.yaml:20: evaluation.slices.0.0: slice column 'city' is not a feature "
            "(features: age, country)"
        ],
        id="slice-unknown-feature",
    ),
    pytest.param(
        VALID.replace("label: churned", "label: age"),
        ["toy.yaml:12: label: label 'age' is also listed as a feature"],
        id="label-is-feature",
    ),
    pytest.param(
        VALID.replace("{name: country, type: categorical}", "{name: age, type: categorical}"),
        ["toy.yaml:11: features.1.name: feature 'age' is listed twice"],
        id="duplicate-feature",
    ),
    pytest.param(
        VALID.replace("debounce: 6h", "debounce: six hours"),
        [
            "toy.yaml:22: triggers.data_arrival.debounce: 'six hours' is not a duration such "
            "as 30m, 6h or 1d"
        ],
        id="bad-duration",
    ),
    pytest.param(
        VALID.replace("action: retrain", "action: panic"),
        ["toy.yaml:23: triggers.drift.action: Input should be 'retrain', 'notify' or 'ignore'"],
        id="bad-drift-action",
    ),
    pytest.param(
        VALID.replace("pipelines.trainers.tabular", "pipelines.trainers.nope"),
        ["toy.yaml:14: trainer.module: trainer module 'pipelines.trainers.nope' cannot be found"],
        id="missing-trainer-module",
    ),
    pytest.param(
        VALID.replace("name: toy", "name: other"),
        ["toy.yaml:1: name: name 'other' must match the file name 'toy'"],
        id="name-not-file-stem",
    ),
    pytest.param(
        VALID.replace("label: churned", "label: churned\nlabel: again"),
        ["toy.yaml:13: <root>: duplicate key 'label'"],
        id="duplicate-key",
    ),
    pytest.param(
        VALID.replace("features:\n", "features: [\n"),
        ["toy.yaml:10: <root>: YAML syntax error: expected the node content, but found '-'"],
        id="yaml-syntax",
    ),
    pytest.param(
        VALID.replace("  local:\n", "  query: SELECT age FROM `other-project.x.y`\n  local:\n"),
        [
            "toy.yaml:7: data.query: reads other-project.x.y, but local runs only have the "
            "watched table my-project.analytics.customers (data.local.path)"
        ],
        id="query-reads-another-table",
    ),
    pytest.param(
        VALID.replace("  local:\n", "  query: SELEKT nonsense FROM\n  local:\n"),
        [
            "toy.yaml:7: data.query: is not valid BigQuery SQL: Invalid expression / "
            "Unexpected token (line 1, column 20)"
        ],
        id="query-not-sql",
    ),
    *(
        pytest.param(
            VALID.replace("registry_model: toy", f"registry_model: {bad}"),
            [
                f"toy.yaml:26: promotion.registry_model: {bad!r} must be at most 63 lowercase "
                "letters, digits, _ and -, starting with a letter or _"
            ],
            id=f"registry-model-{why}",
        )
        for bad, why in (("Toy", "uppercase"), ("9toy", "digit-first"), ("t" * 64, "too-long"))
    ),
    pytest.param(
        "", ["toy.yaml:1: <root>: file is empty; a spec needs name, task, data, ..."], id="empty"
    ),
    pytest.param(
        "- a\n- b\n",
        ["toy.yaml:1: <root>: expected a mapping of fields, got list"],
        id="not-a-mapping",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_specs_name_file_line_and_field(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    assert problems(write(tmp_path, text)) == expected


def test_duplicate_names_across_files(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    first = write(a, VALID)
    second = write(b, VALID)
    with pytest.raises(SpecError) as caught:
        load_specs([first, second])
    assert [str(p) for p in caught.value.problems] == [
        f"{second}:1: name: name 'toy' is already used by {first}"
    ]


def test_cli_validate_exit_codes_and_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, VALID)
    assert main(["validate", str(good)]) == 0
    assert "ok  toy" in capsys.readouterr().out

    bad = write(tmp_path, VALID.replace("train_steps: 100", "train_steps: -1"), name="bad")
    bad.write_text(bad.read_text().replace("name: toy", "name: bad"))
    assert main(["validate", str(good), str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{bad}:15: trainer.train_steps: Input should be greater than 0"]


def test_cli_validate_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path)]) == 1
    assert "no spec files" in capsys.readouterr().err


def test_unreadable_bytes_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "toy.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    (problem,) = problems(path)
    assert problem.startswith("toy.yaml:1: <root>: cannot read:")
