"""Untrusted text flowing into pipeline parameters, SQL, branch names, markdown and labels is
validated or escaped: table names from audit logs, spec names, PR titles, metric names and
slice values with markdown or HTML in them, spec names carried by a summary."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from retrain.codehost.github import GitHubCodeHost, build_client
from retrain.completion import CompletionHandler
from retrain.errors import SpecError, SummaryError
from retrain.events.bigquery import table_data_change_entry
from retrain.events.envelope import pubsub_body
from retrain.report.escape import code, fenced
from retrain.routing.decision import StdoutLog
from retrain.runs import RunOutcome, RunRequest, label_value
from retrain.spec.load import parse_spec
from retrain.summary import dump_summary, summary_path
from tests.fakes.clock import T0
from tests.fakes.faulty_github import FaultyGitHub
from tests.fakes.github_client import settings_for
from tests.fakes.summaries import load
from tests.routing.helpers import make_service

REPO = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((REPO / "specs" / "churn.yaml").read_text())
HOSTILE = [
    "x`; DROP TABLE t; --",
    "a.b.c` UNION SELECT secret FROM `x.y.z",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "@everyone **bold** | cell |",
    "../../.github/workflows/ci",
    "name with spaces\nnewline",
    "ünïcødé‮reversed",
]


@settings(deadline=None)  # examples: the profile's (tests/conftest.py)
@given(st.text())
def test_label_values_are_always_valid_labels(text: str) -> None:
    assert re.fullmatch(r"[a-z0-9_-]{0,63}", label_value(text))


@settings(deadline=None)  # examples: the profile's (tests/conftest.py)
@given(event_id=st.text(), window=st.text())
def test_run_parameters_and_labels_carry_any_event_id_safely(event_id: str, window: str) -> None:
    request = RunRequest(
        job_id="churn-data-0123456789abcdef0123",
        spec="churn",
        spec_version="3f2a9b1c0d4e",
        trigger="data_arrival",
        event_id=event_id,
        data_window=window,
    )
    labels = request.labels()
    assert all(re.fullmatch(r"[a-z0-9_-]{0,63}", v) for v in labels.values())
    # parameters are typed string values in the PipelineJob JSON, never interpolated code
    assert json.loads(json.dumps(request.parameters()))["event_id"] == event_id


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_names_in_specs_are_rejected_with_a_line(hostile: str) -> None:
    for path, value in (
        (("name",), hostile),
        (("data", "table"), hostile),
        (("features", 0, "name"), hostile),
        (("label",), hostile),
        (("promotion", "registry_model"), hostile),
        (("resources", "data_processing", "runner"), hostile),
    ):
        data: Any = json.loads(json.dumps(SPEC))
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        with pytest.raises(SpecError) as caught:
            parse_spec(yaml.safe_dump(data, sort_keys=False), "specs/churn.yaml")
        assert re.match(r"specs/churn\.yaml:\d+: \S", str(caught.value))


def test_the_training_query_quotes_a_validated_table() -> None:
    spec = parse_spec((REPO / "specs" / "churn.yaml").read_text(), "specs/churn.yaml")
    query = spec.model_copy(update={"data": spec.data.model_copy(update={"query": None})})
    sql = query.training_query()
    assert sql.count("`") == 2 and sql.endswith(f"`{spec.data.table}`")
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", f) for f in spec.feature_names)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_table_names_in_events_are_ignored_and_logged_as_one_json_line(
    hostile: str,
) -> None:
    stream = StringIO()
    service, backend, _, _ = make_service(log=StdoutLog(stream))
    entry = table_data_change_entry("acme-analytics.crm.customers", 900, "j1", T0)
    entry["protoPayload"]["resourceName"] = f"projects/acme-analytics/datasets/crm/tables/{hostile}"
    service.handle("data_arrival", pubsub_body(entry, "m-hostile", {}))
    assert backend.calls == []
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["decision"] in ("ignored", "rejected")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_markdown_helpers_make_names_and_free_text_inert(hostile: str) -> None:
    span = code(hostile, in_table=True)
    fence = re.match(r"^(`+)", span)
    assert fence and span.endswith(fence.group(1))
    assert "\n" not in span and "|" not in span.replace("\\|", "")
    block = fenced(hostile + "\n```\n# heading")
    opening = block.split("\n", 1)[0]
    ticks = opening.removesuffix("text")
    assert block.endswith("\n" + ticks) and block.count(ticks + "\n") <= 2


def test_hostile_metric_and_slice_names_stay_inside_code_in_the_pr_comment(
    tmp_path: Path, faulty_github: FaultyGitHub
) -> None:
    host = GitHubCodeHost(build_client(settings_for(faulty_github)), "acme/models")
    handler = CompletionHandler(host=host)
    summary = load("hostile")
    job = "churn-pr-hostile"
    root = str(tmp_path)
    run = summary.run.model_copy(update={"run_id": job, "pipeline_root": root})
    path = Path(summary_path(root, job))
    path.parent.mkdir(parents=True)
    path.write_text(dump_summary(summary.model_copy(update={"run": run})))
    pr = faulty_github.open_pr(title="<img src=x onerror=alert(1)> **Change** @everyone")
    outcome = RunOutcome(
        job_id=job,
        spec=summary.spec,
        state="succeeded",
        trigger="pull_request",
        pr_number=pr,
        pipeline_root=root,
    )
    handler.handle(outcome)
    (comment,) = faulty_github.comments_on(pr)
    body = comment["body"]
    outside_code = re.sub(r"(`+)[^`]*?\1", "", body, flags=re.DOTALL)
    assert "<script" not in outside_code.lower() and "javascript:" not in outside_code
    assert "@everyone" not in outside_code


def test_a_summary_naming_another_spec_cannot_steer_the_promotion_branch(
    tmp_path: Path, faulty_github: FaultyGitHub
) -> None:
    """The spec in the summary names the file a promotion PR edits and its branch: a summary
    that disagrees with the run's labels is refused, and nothing is proposed."""
    host = GitHubCodeHost(build_client(settings_for(faulty_github)), "acme/models")
    summary = load("churn_pass").model_copy(update={"spec": "../../.github/workflows/ci"})
    job = "churn-data-hostile"
    run = summary.run.model_copy(update={"run_id": job, "pipeline_root": str(tmp_path)})
    path = Path(summary_path(str(tmp_path), job))
    path.parent.mkdir(parents=True)
    path.write_text(dump_summary(summary.model_copy(update={"run": run})))
    outcome = RunOutcome(
        job_id=job,
        spec="churn",
        state="succeeded",
        trigger="data_arrival",
        pipeline_root=str(tmp_path),
    )
    with pytest.raises(SummaryError, match="the run for 'churn'"):
        CompletionHandler(host=host).process(outcome)
    assert faulty_github.open_pulls() == [] and faulty_github.calls("PUT", r"/contents/") == []


@pytest.mark.parametrize(
    "column",
    ["evil\nSecond line", "bell\x07\x1b[2J", "rtl\u202eoverride", "sep\u2028arator", "tab\there"],
)
def test_schema_pr_titles_show_column_names_on_one_line_escaped(column: str) -> None:
    """Issue 25: the schema change PR's title carried the data's raw column names."""
    from retrain.anomalies import Finding
    from retrain.completion.decide import schema_proposal

    outcome = RunOutcome(
        job_id="churn-data-1",
        spec="churn",
        state="succeeded",
        trigger="data_arrival",
        pipeline_root="/runs/churn",
        production=True,
    )
    finding = Finding(column, ("SCHEMA_NEW_COLUMN",), "warning", "a new column", "")
    proposal = schema_proposal(outcome, [finding], "specs", "main")
    assert proposal is not None
    title = proposal.title
    assert title.isprintable(), repr(title)
    assert not re.search("[\u2028\u2029\u202a-\u202e\u2066-\u2069]", title), repr(title)
    assert title.startswith("Schema update for churn: ") and len(title) <= 200
