"""Durations and counts a spec may hold are bounded: a typo must fail validation, not crash
the router at the first event (window arithmetic overflows, Firestore refuses int64+)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from retrain.errors import SpecError
from retrain.spec.load import parse_spec

GOLDEN = Path(__file__).parents[1] / "golden" / "events" / "specs" / "churn.yaml"


def _with(**data_arrival: object) -> str:
    raw = yaml.safe_load(GOLDEN.read_text())
    raw["triggers"]["data_arrival"].update(data_arrival)
    return yaml.safe_dump(raw)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("debounce", "99999999999999999999d", "debounce"),
        ("debounce", "367d", "366d"),
        ("min_new_rows", 2**63, "min_new_rows"),
    ],
)
def test_absurd_values_are_refused_naming_the_field(
    field: str, value: object, expected: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(_with(**{field: value}), "churn.yaml")
    assert expected in str(caught.value) and "churn.yaml" in str(caught.value)


def test_max_staleness_is_bounded_too_and_leaves_the_version_alone() -> None:
    raw = yaml.safe_load(GOLDEN.read_text())
    plain = parse_spec(yaml.safe_dump(raw), "churn.yaml")
    raw["triggers"]["max_staleness"] = "30d"
    assert parse_spec(yaml.safe_dump(raw), "churn.yaml").fingerprint() == plain.fingerprint()
    raw["triggers"]["max_staleness"] = "400d"
    with pytest.raises(SpecError, match="max_staleness"):
        parse_spec(yaml.safe_dump(raw), "churn.yaml")


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", ".Inf"])
def test_a_float_that_is_not_finite_is_refused_anywhere_in_a_spec(value: str) -> None:
    """Issue 25: `learning_rate: .nan` passed validation (NaN compares false with every bound)
    and reached the Trainer."""
    text = GOLDEN.read_text()
    raw = yaml.safe_load(text)
    raw["trainer"].setdefault("hyperparameters", {})["learning_rate"] = 0.5
    dumped = yaml.safe_dump(raw).replace("learning_rate: 0.5", f"learning_rate: {value}")
    with pytest.raises(SpecError) as caught:
        parse_spec(dumped, "churn.yaml")
    message = str(caught.value)
    assert "churn.yaml" in message and "learning_rate" in message, message


@pytest.mark.parametrize("name", ["candidates", "tmp", "staging", "codehost"])
def test_a_spec_may_not_be_named_like_a_directory_of_the_service(name: str) -> None:
    """Issue 25: a spec named `candidates` got the production root <pipeline root>/candidates,
    the candidate runs' root, so a PR's run passed as production's."""
    raw = yaml.safe_load(GOLDEN.read_text())
    raw["name"] = name
    with pytest.raises(SpecError) as caught:
        parse_spec(yaml.safe_dump(raw), f"{name}.yaml")
    assert f"name: {name!r} is reserved" in str(caught.value), str(caught.value)
