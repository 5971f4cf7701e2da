"""The spec's description and owner under the verdict: shown as inert code, cut, or left out."""

from __future__ import annotations

from pipelines.summary_builder import build_summary
from retrain.compare import compare
from retrain.report import Report, links_for, render_comparison
from retrain.spec import load_spec
from retrain.summary import EvaluationSummary, ModelRef, RunInfo, dump_summary, parse_summary
from tests.conftest import REPO
from tests.fakes.summaries import load


def _about_line(summary: EvaluationSummary) -> list[str]:
    report = Report(comparison=compare(summary), summary=summary, links=links_for(summary))
    return [line for line in render_comparison(report).splitlines() if line.startswith("<sub>`")]


def test_description_and_owner_appear_once_under_the_verdict() -> None:
    summary = load("churn_pass")
    (line,) = _about_line(summary)
    assert f"`{summary.description}`" in line and "owner `@acme/retention-ml`" in line


def test_a_spec_without_them_gets_no_line() -> None:
    summary = load("churn_pass").model_copy(update={"owner": "", "description": ""})
    assert _about_line(summary) == []


def test_a_long_description_is_cut_and_credentials_are_redacted() -> None:
    token = "ghp_" + "a" * 36
    summary = load("churn_pass").model_copy(update={"description": f"{token} " + "x" * 500})
    (line,) = _about_line(summary)
    assert token not in line and "[redacted]" in line
    assert "x" * 150 in line and "x" * 300 not in line and "…" in line


def test_the_pipeline_writes_them_into_the_summary() -> None:
    spec = load_spec(REPO / "specs" / "churn.yaml")
    run = RunInfo(run_id="r1", orchestrator="local", pipeline_root="/p", trigger="manual",
                  finished_at="t")  # fmt: skip
    written = build_summary(spec, run, [], False, [], ModelRef(uri="/m"), None, [], {})
    again = parse_summary(dump_summary(written), "test")
    assert (again.owner, again.description) == (spec.owner, spec.description)
    assert spec.owner and spec.description
