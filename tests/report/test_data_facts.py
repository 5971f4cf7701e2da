"""Data facts in the PR comment: rows read and dropped, missing values, and the baseline run's."""

from __future__ import annotations

from retrain.compare import compare
from retrain.report import Report, links_for, render_comparison
from retrain.summary import DataFacts
from tests.fakes.summaries import load


def test_facts_of_candidate_and_of_the_baseline_run() -> None:
    candidate = load("penguins_multiclass")
    older = candidate.model_copy(
        update={"data": DataFacts(rows_read=300, rows_dropped={"label species missing": 4})}
    )
    body = render_comparison(
        Report(
            comparison=compare(candidate, older),
            summary=candidate,
            links=links_for(candidate),
            baseline_summary=older,
        )
    )
    assert (
        "344 rows read · 2 dropped (`feature body_mass_g missing (missing: drop_row)`) · "
        "missing values filled in: `sex` 9"
    ) in body
    assert "**Baseline run's data:** 300 rows read · 4 dropped (`label species missing`)" in body


def test_version_1_summary_has_no_facts_line() -> None:
    summary = load("churn_pass")
    body = render_comparison(
        Report(comparison=compare(summary), summary=summary, links=links_for(summary))
    )
    assert "rows read" not in body and "Baseline run's data" not in body
