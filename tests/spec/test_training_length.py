"""How long to train is said once, in batches (`train_steps`) or in passes over every row
(`epochs`), and a fixed-step spec that would see under a tenth of its table is told so."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrain.cli.main import main
from retrain.errors import SpecError
from retrain.spec import load_specs
from retrain.spec.coverage import LOW_COVERAGE, training_coverage
from tests.spec.test_validate import VALID, write

EPOCHS = VALID.replace("train_steps: 100", "epochs: 2")


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_specs([write(tmp_path, text)])
    return [str(p).removeprefix(str(tmp_path) + "/") for p in caught.value.problems]


def test_epochs_alone_is_a_valid_length(tmp_path: Path) -> None:
    (spec,) = load_specs([write(tmp_path, EPOCHS)])
    assert (spec.trainer.epochs, spec.trainer.train_steps) == (2, None)


def test_both_lengths_are_refused_on_the_epochs_line(tmp_path: Path) -> None:
    both = VALID.replace("train_steps: 100", "train_steps: 100\n  epochs: 1")
    (found,) = problems(tmp_path, both)
    assert found.startswith("toy.yaml:16: trainer.epochs: both train_steps and epochs are set")


def test_no_length_names_both_choices(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, VALID.replace("  train_steps: 100\n", ""))
    assert found.startswith("toy.yaml:")
    assert "trainer: say how long to train: set train_steps" in found
    assert "or epochs" in found


def test_a_spec_counting_epochs_has_a_version_of_its_own(tmp_path: Path) -> None:
    (steps,) = load_specs([write(tmp_path, VALID)])
    (epochs,) = load_specs([write(tmp_path, EPOCHS)])
    assert steps.fingerprint() != epochs.fingerprint()
    assert "epochs" not in steps.identity()["trainer"]  # older specs keep their version


@pytest.mark.parametrize(
    ("usable", "warned"),
    [(1_000, False), (100_000, False), (1_000_000, True)],
)
def test_coverage_warns_below_a_tenth_of_the_training_rows(
    tmp_path: Path, usable: int, warned: bool
) -> None:
    (spec,) = load_specs([write(tmp_path, VALID.replace("train_steps: 100", "train_steps: 300"))])
    coverage = training_coverage(spec, usable)
    assert coverage is not None
    # The tabular trainer's declared default batch size (64), over the train split's share.
    assert coverage.examples_seen == 300 * 64
    assert coverage.train_rows == usable * spec.evaluation.split_buckets[0] // 20
    assert (coverage.fraction < LOW_COVERAGE) is warned
    assert (coverage.warning() is not None) is warned


def test_the_warning_names_the_fraction_and_the_fix(tmp_path: Path) -> None:
    (spec,) = load_specs([write(tmp_path, VALID.replace("train_steps: 100", "train_steps: 300"))])
    coverage = training_coverage(spec, 1_000_000)
    assert coverage is not None
    assert coverage.warning() == (
        "training sees 2.4% of its rows: train_steps 300 x batch_size 64 = 19,200 examples "
        "of about 800,000 training rows; set trainer.epochs: 1 instead of train_steps to "
        "train over every row (or raise train_steps)"
    )


def test_the_spec_batch_size_counts_and_epochs_need_no_warning(tmp_path: Path) -> None:
    hyper = VALID.replace(
        "train_steps: 100", "train_steps: 100\n  hyperparameters: {batch_size: 8}"
    )
    (spec,) = load_specs([write(tmp_path, hyper)])
    coverage = training_coverage(spec, 10_000)
    assert coverage is not None and coverage.batch_size == 8
    (by_epochs,) = load_specs([write(tmp_path, EPOCHS)])
    assert training_coverage(by_epochs, 10_000_000) is None


def test_validate_data_warns_without_failing(
    wine_checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = wine_checkout / "specs" / "wine.yaml"
    text = spec.read_text()
    assert main(["validate", "--data", "specs/wine.yaml"]) == 0
    assert "warning" not in capsys.readouterr().err  # 60 x 64 examples cover 178 rows
    spec.write_text(
        text.replace("train_steps: 60", "train_steps: 1\n  hyperparameters: {batch_size: 8}")
    )
    assert main(["validate", "--data", "specs/wine.yaml"]) == 0
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("warning: specs/wine.yaml: wine: training sees 5.6% of its rows")
    assert "set trainer.epochs: 1" in line
