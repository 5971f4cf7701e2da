"""A spec's identity: what its version (job ids, compile hash) is made of, and what is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrain.pipeline_env.compile import PLACEHOLDER_OPTIONS, input_hash
from retrain.routing.index import load_index
from retrain.spec import load_specs
from tests.routing.helpers import SPECS, arrival, make_service

CHURN = (SPECS / "churn.yaml").read_text()


def _identity(tmp_path: Path, text: str) -> tuple[str, str, str]:
    """The spec's version, the job id its data-arrival run gets for one fixed event, and its
    compile hash."""
    directory = tmp_path / "specs"
    directory.mkdir(parents=True)
    (directory / "churn.yaml").write_text(text)
    (directory / "house-prices.yaml").write_text((SPECS / "house-prices.yaml").read_text())
    service, _, _, _ = make_service(index=load_index(directory))
    (decision,) = service.handle("data_arrival", arrival(600, "job-1"), "ce-1")
    assert decision.decision == "run"
    (spec,) = load_specs([directory / "churn.yaml"], check_code=False)
    return spec.fingerprint(), decision.job_id, input_hash(spec, PLACEHOLDER_OPTIONS, "code")


def _before_after(tmp_path: Path, old: str, new: str) -> list[tuple[str, str]]:
    """(before, after) pairs of version, job id and compile hash for one edit of churn."""
    assert old in CHURN
    before = _identity(tmp_path / "before", CHURN)
    after = _identity(tmp_path / "after", CHURN.replace(old, new, 1))
    return list(zip(before, after, strict=True))


COSMETIC = [
    pytest.param('owner: "@acme/retention-ml"', 'owner: "@acme/other-team"', id="owner"),
    pytest.param("description: Predicts churn", "description: Guesses churn", id="description"),
    pytest.param(
        "  alias: champion", "  alias: stable\n  version: v7", id="promotion-alias-version"
    ),
]


@pytest.mark.parametrize(("old", "new"), COSMETIC)
def test_cosmetic_fields_keep_the_version_and_the_job_id(
    tmp_path: Path, old: str, new: str
) -> None:
    for before, after in _before_after(tmp_path, old, new):
        assert after == before


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("hidden_units: 16", "hidden_units: 32", id="hyperparameter"),
        pytest.param("min_new_rows: 500", "min_new_rows: 400", id="trigger-policy"),
        pytest.param("registry_model: churn", "registry_model: churn-v2", id="registry-model"),
    ],
)
def test_fields_that_shape_a_run_or_its_trigger_change_the_version_and_the_job_id(
    tmp_path: Path, old: str, new: str
) -> None:
    for before, after in _before_after(tmp_path, old, new):
        assert after != before
