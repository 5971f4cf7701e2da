"""The evaluation settings of issue 27: the interval level, how within noise is treated, and
whether slices gate; with their defaults, an existing spec keeps its version."""

from __future__ import annotations

import pytest

from retrain.errors import SpecError
from retrain.spec.load import parse_spec
from tests.conftest import REPO

CHURN = (REPO / "specs" / "churn.yaml").read_text()


def _with(extra: str) -> str:
    return CHURN.replace("  slices:\n", f"{extra}  slices:\n", 1)


def test_defaults_keep_an_existing_specs_version() -> None:
    spec = parse_spec(CHURN, "churn.yaml")
    ev = spec.evaluation
    assert (ev.confidence_level, ev.within_noise, ev.slices_gate) == (0.95, "hold", False)
    explicit = parse_spec(
        _with("  confidence_level: 0.95\n  slices_gate: false\n  within_noise: hold\n"), "c.yaml"
    )
    assert explicit.fingerprint() == spec.fingerprint()


def test_level_and_slices_gate_change_the_version_within_noise_does_not() -> None:
    spec = parse_spec(CHURN, "churn.yaml")
    assert parse_spec(_with("  confidence_level: 0.9\n"), "c.yaml").fingerprint() != (
        spec.fingerprint()
    )
    assert parse_spec(_with("  slices_gate: true\n"), "c.yaml").fingerprint() != spec.fingerprint()
    # how a result is treated for promotion is decided after the run: no part of it
    assert parse_spec(_with("  within_noise: promote\n"), "c.yaml").fingerprint() == (
        spec.fingerprint()
    )


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("  confidence_level: 1.5\n", "evaluation.confidence_level"),
        ("  within_noise: maybe\n", "evaluation.within_noise"),
    ],
)
def test_bad_settings_name_their_field(extra: str, field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(_with(extra), "churn.yaml")
    assert field in str(caught.value)


def test_intervals_can_be_turned_off() -> None:
    off = parse_spec(_with("  confidence_level: null\n"), "c.yaml")
    assert off.evaluation.confidence_level is None
    assert off.fingerprint() != parse_spec(CHURN, "churn.yaml").fingerprint()
