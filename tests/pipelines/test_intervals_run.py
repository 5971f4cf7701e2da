"""A real TFX run reports TFMA's confidence intervals: on each metric, on each change against
production, with the bootstrap's seed; the comment shows them, with the confusion matrix of
both models and what the PR changed.

Not asserted: that a rerun draws the very same intervals. TFMA seeds each combiner instance,
not each row, so how Beam bundles the rows still moves the draws (measured: production's auc
interval in two PR runs on the same rows, [0.9079, 0.9581] and [0.9099, 0.9584])."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrain.compare import compare
from retrain.delivery.candidate import changes_parameter
from retrain.pipeline_env.local_run import local_baselines, run_local
from retrain.report import Report, links_for, render_comparison
from retrain.report.changes import spec_changes
from retrain.spec import load_spec
from retrain.summary import EvaluationSummary, read_summary
from tests.conftest import PIPELINE_ENV, fast_spec_copy, without_intervals

pytestmark = pytest.mark.tfx


@pytest.mark.timeout(2400)  # two TFX runs of the churn classifier, one with intervals
def test_intervals_in_summary_and_comment(repo_cwd: Path, tmp_path: Path) -> None:
    spec_path = fast_spec_copy("churn", tmp_path / "specs", intervals=True)
    # one slice column, not two: the bootstrap evaluates every slice 20 times more
    spec_path.write_text(spec_path.read_text().replace("    - [contract]\n", ""))
    spec = load_spec(spec_path)
    workdir = tmp_path / "work"
    snapshot = "2026-11-20T05:00:00Z"
    # Production's run leaves intervals out (`confidence_level: null`, each bootstrap costs
    # minutes): the PR run below computes them for both models.
    first_path = tmp_path / "production" / "specs" / "churn.yaml"
    first_path.parent.mkdir(parents=True)
    first_path.write_text(without_intervals(spec_path.read_text()))
    schema = spec_path.with_name("churn.schema.pbtxt")
    (first_path.parent / schema.name).write_text(schema.read_text())
    first = read_summary(
        run_local(
            PIPELINE_ENV,
            load_spec(first_path),
            first_path,
            workdir,
            {"run_id": "churn-run-1", "trigger": "data_arrival", "data_snapshot": snapshot},
        )
    )
    assert first.schema_version == 4
    assert first.confidence is None  # null: no intervals, as the spec says
    auc = first.overall("auc")
    assert auc is not None and auc.candidate is not None and auc.candidate_interval is None
    assert {(c.model, c.actual, c.predicted) for c in first.confusion} == {
        ("candidate", a, p) for a in "01" for p in "01"
    }
    assert sum(c.count for c in first.confusion) == first.example_counts["eval"]

    promoted = spec.model_copy(
        update={"promotion": spec.promotion.model_copy(update={"version": "churn-run-1"})}
    )
    baseline = local_baselines(workdir)(promoted)
    values = {
        "trigger": "pull_request",
        "pr_number": "7",
        "baseline_uri": baseline.uri,
        "baseline_version": baseline.version,
        "data_snapshot": snapshot,
    }

    def pr_run(hidden_units: int, run_id: str) -> EvaluationSummary:
        """A PR that changes the model's width: its own Trainer run (TFX would reuse an
        unchanged one), judged against production on the same rows."""
        text = spec_path.read_text().replace("hidden_units: 16", f"hidden_units: {hidden_units}")
        path = tmp_path / run_id / "specs" / "churn.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(text)
        schema = spec_path.with_name("churn.schema.pbtxt")
        (path.parent / schema.name).write_text(schema.read_text())
        head = load_spec(path)
        changes = changes_parameter(spec_changes(spec, head))
        run = {**values, "run_id": run_id, "spec_changes": changes}
        return read_summary(run_local(PIPELINE_ENV, head, path, workdir, run))

    second = pr_run(32, "churn-pr-1")
    assert second.confidence is not None
    assert (second.confidence.level, second.confidence.samples) == (0.95, 20)
    assert [(c.field, c.before, c.after) for c in second.changes] == [
        ("trainer.hyperparameters.hidden_units", "16", "32")
    ]
    auc = second.overall("auc")
    assert auc is not None and auc.change_interval is not None and auc.baseline_interval
    assert auc.candidate_interval is not None
    assert auc.candidate_interval.low < auc.candidate_interval.high
    assert auc.change_interval.low < auc.change_interval.high
    assert {c.model for c in second.confusion} == {"candidate", "baseline"}
    comparison = compare(second)
    assert comparison.change in ("better", "worse", "within_noise")
    comment = render_comparison(
        Report(comparison=comparison, summary=second, links=links_for(second))
    )
    assert "95% CI [" in comment and "95% intervals (TFMA's Poisson bootstrap" in comment
    assert f"seed {second.confidence.seed if second.confidence else '?'}" in comment
    assert "Confusion matrix (candidate and production)" in comment
    assert "**This PR changed:** `trainer.hyperparameters.hidden_units` `16` → `32`" in comment
    assert str(tmp_path) not in comment  # no absolute local path
