"""Multiclass specs, per-feature missing-value policies and declared hyperparameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrain.errors import SpecError
from retrain.spec import load_specs, spec_paths
from retrain.spec.hyperparams import DeclarationError, declared_for, parse_declaration
from tests.conftest import REPO
from tests.spec.test_validate import VALID, write

MULTICLASS = (
    VALID.replace("task: binary_classification", "task: multiclass_classification")
    .replace("label: churned\n", "label: churned\nclasses: [low, mid, high]\n")
    .replace("{name: auc, min: 0.7, max_regression: 0.01}", "{name: macro_f1, min: 0.6}")
)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_specs([write(tmp_path, text)])
    return [str(p).removeprefix(str(tmp_path) + "/") for p in caught.value.problems]


def test_real_dataset_specs_are_valid() -> None:
    specs = load_specs(spec_paths([REPO / "examples" / "specs"]))
    assert {s.task for s in specs} == {
        "binary_classification",
        "multiclass_classification",
        "regression",
    }


def test_multiclass_spec_loads_with_its_classes(tmp_path: Path) -> None:
    (spec,) = load_specs([write(tmp_path, MULTICLASS)])
    assert spec.classes == ["low", "mid", "high"]


def test_multiclass_needs_classes(tmp_path: Path) -> None:
    text = MULTICLASS.replace("classes: [low, mid, high]\n", "")
    assert problems(tmp_path, text) == [
        "toy.yaml:1: classes: multiclass_classification needs classes: the label's values, "
        "e.g. [setosa, versicolor, virginica]"
    ]


def test_classes_only_for_multiclass_and_unique(tmp_path: Path) -> None:
    text = VALID.replace("label: churned\n", "label: churned\nclasses: [a, b]\n")
    assert problems(tmp_path, text) == [
        "toy.yaml:13: classes: classes apply to multiclass only, not binary_classification"
    ]
    text = MULTICLASS.replace("[low, mid, high]", "[low, mid, low]")
    assert problems(tmp_path, text) == ["toy.yaml:13: classes.2: class 'low' is listed twice"]


def test_binary_metric_on_multiclass_is_refused(tmp_path: Path) -> None:
    text = MULTICLASS.replace("{name: macro_f1, min: 0.6}", "{name: auc}")
    assert problems(tmp_path, text) == [
        "toy.yaml:19: evaluation.metrics.0.name: metric 'auc' does not apply to task "
        "'multiclass_classification'"
    ]


def test_missing_policy_must_fit_the_feature_type(tmp_path: Path) -> None:
    text = VALID.replace(
        "{name: country, type: categorical}", "{name: country, type: categorical, missing: mean}"
    )
    assert problems(tmp_path, text) == [
        "toy.yaml:11: features.1.missing: missing: mean does not apply to a categorical "
        "feature (allowed: bucket, drop_row)"
    ]


def test_default_missing_policies(tmp_path: Path) -> None:
    (spec,) = load_specs([write(tmp_path, VALID)])
    assert [f.missing_policy for f in spec.features] == ["mean", "bucket"]


def with_hyperparameters(block: str) -> str:
    return VALID.replace(
        "  module: pipelines.trainers.tabular\n",
        f"  module: pipelines.trainers.tabular\n  hyperparameters: {block}\n",
    )


def test_unknown_hyperparameter_gets_a_did_you_mean(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, with_hyperparameters("{learning_rte: 0.1}"))
    assert problem == (
        "toy.yaml:15: trainer.hyperparameters.learning_rte: pipelines.trainers.tabular has no "
        "hyperparameter 'learning_rte'; did you mean 'learning_rate'? (known: batch_size, "
        "dropout, hidden_units, l2, learning_rate)"
    )


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{hidden_units: 12.5}", "hidden_units must be int, got 12.5"),
        ("{hidden_units: true}", "hidden_units must be int, got True"),
        ("{learning_rate: fast}", "learning_rate must be float, got 'fast'"),
        ("{dropout: 0.95}", "dropout 0.95 is outside [0.0, 0.9]"),
    ],
)
def test_wrong_hyperparameter_values(tmp_path: Path, block: str, message: str) -> None:
    (problem,) = problems(tmp_path, with_hyperparameters(block))
    assert problem.endswith(message), problem


def test_integer_is_accepted_where_a_float_is_declared(tmp_path: Path) -> None:
    (spec,) = load_specs([write(tmp_path, with_hyperparameters("{learning_rate: 1}"))])
    assert spec.trainer.hyperparameters == {"learning_rate": 1}


def test_tabular_trainer_declares_its_hyperparameters() -> None:
    declared = declared_for("pipelines.trainers.tabular")
    assert declared is not None
    assert declared["batch_size"] == {"type": "int", "min": 1, "max": 65536, "default": 64}


def test_module_without_declaration_is_not_checked() -> None:
    assert parse_declaration("def run_fn(fn_args):\n    pass\n", "m.py") is None


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("HYPERPARAMETERS = dict(a=1)\n", "m.py:1: HYPERPARAMETERS must be a literal"),
        ("HYPERPARAMETERS = {'a': {'type': 'complex'}}\n", "must map names to"),
        ("HYPERPARAMETERS = {\n", "m.py: cannot parse"),
    ],
)
def test_bad_declarations_are_reported(source: str, message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        parse_declaration(source, "m.py")
