"""A local run's values are checked before TFX and before the run is on the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrain.errors import PipelineError
from retrain.pipeline_env.local_run import run_local
from retrain.spec import load_spec
from tests.conftest import PIPELINE_ENV, fast_spec_copy


@pytest.mark.parametrize(
    ("values", "flag"),
    [({"run_id": "Bad_ID"}, "--run-id"), ({"trigger": "by-hand"}, "--trigger")],
)
def test_a_bad_run_value_is_refused_before_anything_runs(
    repo_cwd: Path, tmp_path: Path, values: dict[str, str], flag: str
) -> None:
    path = fast_spec_copy("house-prices", tmp_path / "specs")
    with pytest.raises(PipelineError, match=f"house-prices: {flag}: not a valid value"):
        run_local(PIPELINE_ENV, load_spec(path), path, tmp_path / "work", values)
    assert not (tmp_path / "work" / "_jobs").exists()
