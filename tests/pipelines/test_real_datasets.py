"""Real public datasets, written as a user would, run end to end with LocalDagRunner.

examples/specs holds them: Palmer penguins (multiclass with Transform, and binary without,
both with real missing values; the binary one also misses labels and trains by epochs) and
scikit-learn's diabetes data (regression). Each must reach a blessed first model with
plausible metrics, and its summary must count what was dropped and filled in.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from retrain.compare import compare
from retrain.pipeline_env.local_run import run_local
from retrain.report import Report, links_for, render_comparison
from retrain.spec import load_spec
from retrain.spec.tfschema import schema_path
from retrain.summary import EvaluationSummary, read_summary
from tests.conftest import PIPELINE_ENV, REPO, without_intervals

pytestmark = pytest.mark.tfx


def run(name: str, tmp_path: Path) -> EvaluationSummary:
    """The example spec as written, less its confidence intervals (conftest.without_intervals)."""
    source = REPO / "examples" / "specs" / f"{name}.yaml"
    path = tmp_path / "specs" / source.name
    path.parent.mkdir()
    path.write_text(without_intervals(source.read_text()))
    shutil.copy(schema_path(source), schema_path(path))
    spec = load_spec(path)
    summary = read_summary(
        run_local(PIPELINE_ENV, spec, path, tmp_path / "work", {"run_id": f"{name}-1"})
    )
    assert summary.blessed, summary.validation_failures
    return summary


def overall(summary: EvaluationSummary, metric: str) -> float:
    row = summary.overall(metric)
    assert row is not None and row.candidate is not None, metric
    return row.candidate


@pytest.mark.timeout(330)  # Transform on three classes: 76-98 s measured on the 2-core machine
def test_multiclass_penguins_with_missing_features_and_transform(
    repo_cwd: Path, tmp_path: Path
) -> None:
    summary = run("penguins-species", tmp_path)
    assert summary.task == "multiclass_classification"
    assert overall(summary, "accuracy") > 0.9
    assert overall(summary, "macro_f1") > 0.85
    assert 0.85 < overall(summary, "macro_recall") <= 1.0
    assert summary.data is not None
    assert summary.data.rows_read == 344 and summary.data.rows_dropped == {}
    # Two birds lack every measurement and eleven lack their sex; all are kept and imputed.
    assert summary.data.missing["bill_length_mm"] == 2
    assert summary.data.missing["sex"] == 11
    assert sum(summary.example_counts.values()) == 344
    classes = {row.class_name for row in summary.per_class}
    assert classes == {"Adelie", "Chinstrap", "Gentoo"}
    assert {row.metric for row in summary.per_class} == {"precision", "recall", "f1"}
    islands = {row.slice["island"] for row in summary.metrics if row.slice}
    assert islands == {"Biscoe", "Dream", "Torgersen"}

    comment = render_comparison(
        Report(comparison=compare(summary), summary=summary, links=links_for(summary))
    )
    assert "<details><summary>Per-class figures</summary>" in comment
    assert "| `Chinstrap` | `f1` |" in comment
    assert "344 rows read" in comment
    assert "missing values filled in: `bill_depth_mm` 2" in comment


def test_binary_penguins_with_missing_labels_and_features_without_transform(
    repo_cwd: Path, tmp_path: Path
) -> None:
    summary = run("penguins-sex", tmp_path)
    assert overall(summary, "auc") > 0.85
    # The spec counts epochs, not steps: Keras trained 40 passes over the training split.
    log = (tmp_path / "work" / "penguins-sex" / "logs" / "penguins-sex-1.log").read_text()
    (trained,) = re.findall(r"retrain trainer: (\d+) epochs, (\d+) steps", log)
    assert int(trained[0]) == 40
    # every training row once per epoch: 40 passes of 8 or 9 batches of 32 (~266 rows)
    assert 40 * 8 <= int(trained[1]) <= 40 * 10
    assert summary.data is not None
    assert summary.data.rows_read == 344
    # Sex is empty for ten birds and "." for one: those rows cannot be labelled.
    assert summary.data.rows_dropped == {"label is_male missing": 11}
    assert sum(summary.example_counts.values()) == 333
    assert summary.data.missing["delta_15_n"] > 0
    assert summary.data.missing["delta_13_c"] > 0
    assert "culmen_length_mm" not in summary.data.missing
    assert summary.per_class == []


def test_regression_on_diabetes(repo_cwd: Path, tmp_path: Path) -> None:
    summary = run("diabetes", tmp_path)
    # The label's standard deviation is 77; a linear model reaches about 54 on held-out rows.
    assert 35 < overall(summary, "rmse") < 70
    assert summary.data is not None and summary.data.rows_read == 442
    assert summary.data.missing == {}
