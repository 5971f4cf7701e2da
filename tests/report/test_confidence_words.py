"""The new first lines of a comment: what the PR changed, the small-eval warning, and no
absolute local path anywhere in a comment."""

from __future__ import annotations

import re

import pytest

from pipelines.summary_builder import parse_changes, training_facts
from retrain.compare import compare
from retrain.delivery.candidate import candidate_request, changes_on_base_branch
from retrain.report import Report, links_for, render_comparison, render_unfinished
from retrain.report.changes import changes_line, spec_changes
from retrain.report.confidence import rows_needed, small_eval_warning
from retrain.report.escape import hide_local_paths
from retrain.runs import Baseline, RunOutcome
from retrain.spec import load_spec
from retrain.spec.load import parse_spec
from retrain.summary import Lineage
from tests.conftest import REPO
from tests.fakes.git import FakeGit
from tests.fakes.summaries import load

ABSOLUTE = re.compile(r"(?<![\w:/.~…-])/(?:home|work|tmp|Users|var)/")


def test_spec_changes_name_the_fields_the_pr_changed() -> None:
    base = load_spec(REPO / "specs" / "churn.yaml")
    trainer = base.trainer.model_copy(
        update={"hyperparameters": {**base.trainer.hyperparameters, "hidden_units": 32}}
    )
    features = [f for f in base.features if f.name != "support_calls"]
    head = base.model_copy(
        update={"trainer": trainer, "features": features, "owner": "@someone/else"}
    )
    changes = spec_changes(base, head)
    assert [(c.field, c.before, c.after) for c in changes] == [
        ("trainer.hyperparameters.hidden_units", "16", "32"),
        ("features.support_calls.name", '"support_calls"', ""),
        ("features.support_calls.type", '"numeric"', ""),
    ]  # the owner is no part of a run: not listed
    assert spec_changes(base, base) == []
    line = changes_line(changes)
    assert line.startswith(
        "**This PR changed:** `trainer.hyperparameters.hidden_units` `16` → `32`"
    )
    assert "`features.support_calls.type` removed" in line
    assert changes_line([]) == ""


def test_the_small_eval_warning_names_the_row_count_below_what_the_level_needs() -> None:
    assert rows_needed(0.95) == 385 and rows_needed(0.9) < 385 < rows_needed(0.99)
    small = compare(load("wine_small"))
    warning = small_eval_warning(small)
    assert "**Small eval set: 31 rows.**" in warning and "±0.18" in warning
    assert small_eval_warning(compare(load("churn_better"))) == ""  # 2,400 rows
    assert "930" not in small_eval_warning(compare(load("churn_within_noise")))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("/home/ana/retrain/work/churn/pipeline_root", "…/churn/pipeline_root"),
        (
            "missing (/work/w1/serving/churn/17 does not exist)",
            "missing (…/churn/17 does not exist)",
        ),
        ("file:///tmp/x/summary.json", "…/x/summary.json"),
        ("gs://acme/pipeline_root/churn", "gs://acme/pipeline_root/churn"),
        ("https://console.cloud.google.com/a/b", "https://console.cloud.google.com/a/b"),
        ("work/churn/pipeline_root", "work/churn/pipeline_root"),
        ("<b>run</b> and 3/4", "<b>run</b> and 3/4"),
    ],
)
def test_local_paths_are_cut_to_their_last_two_parts(text: str, shown: str) -> None:
    assert hide_local_paths(text) == shown


def test_no_absolute_local_path_in_any_comment() -> None:
    summary = load("churn_no_baseline")
    summary = summary.model_copy(
        update={
            "run": summary.run.model_copy(update={"pipeline_root": "/home/ana/work/pipeline_root"}),
            "lineage": Lineage(
                baseline_note="production's model is missing (/tmp/s/m does not exist)"
            ),
            "validation_failures": ["overall: auc: see /var/lib/tfx/eval/metrics"],
        }
    )
    comment = render_comparison(
        Report(
            comparison=compare(summary),
            summary=summary,
            links=links_for(summary, location="/home/ana/work/summaries/r/evaluation_summary.json"),
        )
    )
    failed = render_unfinished(
        RunOutcome(
            job_id="j",
            spec="churn",
            state="failed",
            trigger="pull_request",
            pipeline_root="/home/ana/work/pipeline_root",
            error="OSError: /home/ana/work/data/churn.csv: no such file",
        )
    )
    for text in (comment, failed):
        assert not ABSOLUTE.search(text), ABSOLUTE.search(text)
    assert "…/work/pipeline_root" in comment and "…/data/churn.csv" in failed


def test_a_pr_runs_request_carries_what_it_changed_to_the_summary() -> None:
    text = (REPO / "specs" / "churn.yaml").read_text()
    head = parse_spec(text.replace("hidden_units: 16", "hidden_units: 32"), "churn.yaml")
    git = FakeGit({("origin/main", "specs/churn.yaml"): text})
    changes = changes_on_base_branch(git, "origin/main", lambda s: f"specs/{s.name}.yaml")
    request = candidate_request(head, "abc1234", 7, Baseline(), changes=changes(head))
    carried = parse_changes(request.parameters()["spec_changes"])
    assert [(c.field, c.before, c.after) for c in carried] == [
        ("trainer.hyperparameters.hidden_units", "16", "32")
    ]
    new_spec = changes_on_base_branch(FakeGit({}), "origin/main", lambda s: "specs/x.yaml")(head)
    assert new_spec == [] and candidate_request(head, "a", 7, Baseline()).spec_changes == ""
    with pytest.raises(ValueError, match=r"run value spec_changes: 0\.field"):
        parse_changes('[{"before": "1"}]')


def test_a_run_that_trained_on_a_sample_says_so_in_the_comment() -> None:
    """Fixed steps over a large train split (issue 29): the comment warns, naming the fix."""
    summary = load("churn_better")
    spec = load_spec(REPO / "specs" / "churn.yaml")  # 300 steps of 64
    sampled = summary.model_copy(update={"training": training_facts(spec, 800_000)})
    text = render_comparison(Report(compare(sampled), sampled, links_for(sampled)))
    assert (
        "> **Training on a sample:** training sees 2.4% of its rows: train_steps 300 x "
        "batch_size 64 = 19,200 examples of about 800,000 training rows; set trainer.epochs: 1"
    ) in text
    seen = summary.model_copy(update={"training": training_facts(spec, 3_213)})
    assert "Training on a sample" not in render_comparison(
        Report(compare(seen), seen, links_for(seen))
    )
