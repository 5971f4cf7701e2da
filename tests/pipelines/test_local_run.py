"""End to end: real TFX runs with LocalDagRunner and SQLite ML Metadata, in the pipeline env."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from retrain.pipeline_env.local_run import local_baselines, run_local
from retrain.runs import NO_PROMOTION
from retrain.spec import load_spec
from retrain.summary import read_summary
from tests.conftest import PIPELINE_ENV, fast_spec_copy

pytestmark = pytest.mark.tfx


@pytest.mark.timeout(330)  # two TFX runs: 78-103 s measured on the 2-core machine
def test_regressor_runs_then_a_pr_candidate_is_judged_against_production(
    repo_cwd: Path, tmp_path: Path
) -> None:
    spec_path = fast_spec_copy("house-prices", tmp_path / "specs")
    spec = load_spec(spec_path)
    workdir = tmp_path / "work"
    first_file = run_local(
        PIPELINE_ENV,
        spec,
        spec_path,
        workdir,
        {
            "run_id": "hp-run-1",
            "trigger": "data_arrival",
            "event_id": "m-1",
            "git_sha": "abc123",
            "data_snapshot": "2026-11-20T05:00:00Z",
        },
    )
    first = read_summary(first_file)

    assert (
        first_file
        == workdir / "house-prices/pipeline_root/summaries/hp-run-1/evaluation_summary.json"
    )
    assert (first.spec, first.task, first.spec_version) == (
        "house-prices",
        "regression",
        spec.fingerprint(),
    )
    assert (first.run.run_id, first.run.trigger, first.run.pr_number, first.run.git_sha) == (
        "hp-run-1",
        "data_arrival",
        None,
        "abc123",
    )
    # Nothing promoted yet: no baseline, and the summary says why.
    assert first.baseline is None
    assert first.lineage is not None
    assert first.lineage.baseline_note == NO_PROMOTION
    assert (first.lineage.spec_commit, first.lineage.event_id) == ("abc123", "m-1")
    assert first.lineage.candidate_uri == first.candidate.uri
    # Pinned data: the snapshot, its rows and their hash travel with the verdict.
    assert first.lineage.data_snapshot == "2026-11-20T05:00:00Z"
    assert first.lineage.data_rows == 3000 and len(first.lineage.data_hash) == 64
    assert first.blessed, first.validation_failures
    assert first.candidate.pushed_uri.startswith(str(workdir / "house-prices" / "serving"))
    assert sum(first.example_counts.values()) == 3000
    assert set(first.example_counts) == {"train", "eval"}
    overall = first.overall("rmse")
    assert overall is not None and overall.candidate is not None
    assert 0 < overall.candidate < 80
    assert overall.baseline is None
    cities = {row.slice["city"] for row in first.metrics if row.slice and row.metric == "rmse"}
    assert cities == {"lisbon", "porto", "braga", "faro"}
    by_city = [r.example_count or 0 for r in first.metrics if r.slice and r.metric == "rmse"]
    assert sum(by_city) == first.example_counts["eval"]
    assert [t.metric for t in first.thresholds] == ["rmse", "mae"]
    assert first.thresholds[0].higher_is_better is False
    assert first.thresholds[0].max_regression == 5.0

    # Its promotion merged: a PR candidate is judged against that model.
    promoted = spec.model_copy(
        update={"promotion": spec.promotion.model_copy(update={"version": "hp-run-1"})}
    )
    baseline = local_baselines(workdir)(promoted)
    assert baseline.uri == first.candidate.uri
    values = {
        "run_id": "hp-run-2",
        "trigger": "pull_request",
        "pr_number": "7",
        "baseline_uri": baseline.uri,
        "baseline_version": baseline.version,
        "data_snapshot": "2026-11-20T05:00:00Z",
    }
    second = read_summary(run_local(PIPELINE_ENV, spec, spec_path, workdir, values))
    assert second.baseline is not None
    assert (second.baseline.uri, second.baseline.version) == (first.candidate.uri, "hp-run-1")
    assert second.lineage is not None and second.lineage.baseline_version == "hp-run-1"
    assert second.lineage.data_hash == first.lineage.data_hash  # the same rows
    second_overall = second.overall("rmse")
    assert second_overall is not None and second_overall.baseline is not None
    assert math.isclose(second_overall.baseline, overall.candidate, rel_tol=1e-4)
    assert second.run.trigger == "pull_request"
