"""The demo's story end to end: real emulators, real function servers, real TFX runs.

Smaller data and fewer training steps than `make demo`, same path. Asserts every decision,
every run and the final comment texts, as read back from what the stack wrote.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from retrain.demo.story import DemoOptions, Story
from tests.conftest import PIPELINE_ENV, REPO

pytestmark = [pytest.mark.tfx, pytest.mark.emulator]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(shutil.which("gcloud") is None, reason="needs the Google Cloud CLI emulators")
@pytest.mark.timeout(540)  # the stack and two TFX runs: 145-176 s measured on the 2-core machine
def test_demo_story_end_to_end(tmp_path: Path) -> None:
    out = io.StringIO()
    story = Story(
        DemoOptions(
            repo=REPO,
            workdir=tmp_path / "demo",
            pipelines_python=PIPELINE_ENV.python,
            train_steps=150,
            rows_scale=0.5,
            intervals=False,  # test_intervals_run covers them; the bootstrap would triple this
        ),
        out,
    )
    report = story.run()
    narration = out.getvalue()
    assert report.ok, narration
    assert [c.what for c in report.checks if not c.ok] == []

    by_function: dict[str, list[tuple[str, str]]] = {}
    for d in report.decisions:
        by_function.setdefault(d.function, []).append((d.decision, d.spec))
    assert by_function["on_data_arrival"] == [
        ("run", "churn"),
        ("deduplicated", "churn"),
        ("ignored", "house-prices"),  # a column it reads was removed from its table
    ]
    (schema_drift,) = [
        d for d in report.decisions if d.spec == "house-prices" and d.function == "on_data_arrival"
    ]
    assert schema_drift.alert and "gone (removed or renamed): city" in schema_drift.reason
    notice = report.comments["notice (house-prices)"].read_text()
    assert "schema drifted" in notice and "city" in notice
    assert by_function["on_drift_alert"] == [("ignored", "house-prices")]
    assert by_function["on_run_complete"] == [("completed", "churn"), ("completed", "churn")]
    (drift,) = [d for d in report.decisions if d.function == "on_drift_alert"]
    assert drift.alert, "notify must raise an alert"

    data_job, pr_job = list(report.runs)
    assert data_job.startswith("churn-data-") and pr_job.startswith("churn-pr-")
    assert report.runs == {data_job: "succeeded", pr_job: "succeeded"}
    run_decision = next(d for d in report.decisions if d.decision == "run")
    assert run_decision.job_id == data_job

    promotion = report.comments["promotion PR #1"].read_text()
    assert promotion.startswith("<!-- retrain:comparison spec=churn pr=1 -->")
    assert "No baseline yet" in promotion
    assert len(list(report.comments["promotion PR #1"].parent.glob("*.md"))) == 1
    pull = (report.comments["promotion PR #1"].parents[1] / "pull.json").read_text()
    assert f'"title": "Promote churn to {data_job}"' in pull
    promoted_spec = report.comments["promotion PR #1"].parents[1] / "files/specs/churn.yaml"
    assert f'version: "{data_job}"' in promoted_spec.read_text()

    pr_comment = report.comments["PR #41"].read_text()
    assert pr_comment.startswith("<!-- retrain:comparison spec=churn pr=41 -->")
    assert "No baseline yet" not in pr_comment
    auc_row = next(line for line in pr_comment.splitlines() if line.startswith("| `auc`"))
    numbers = re.findall(r"\d\.\d{4}", auc_row)
    assert len(numbers) >= 2, auc_row  # baseline and candidate both present
    # the candidate ran the PR's own commit: a branch in the sandbox's git, main left as merged
    repo = tmp_path / "demo" / "repo"
    pr_commit = git(repo, "rev-parse", "tune/churn-hidden-units")
    assert pr_job in pr_comment and f"commit `{pr_commit[:12]}`" in pr_comment
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    original = re.search(r"hidden_units: \d+", (REPO / "specs" / "churn.yaml").read_text())
    assert original is not None and original[0] in (repo / "specs" / "churn.yaml").read_text()

    stages = {flow: [name for name, _ in laps.stages] for flow, laps in report.latency.items()}
    assert stages == {
        "audit entry -> promotion PR comment": [
            "Pub/Sub + decision",
            "TFX run",
            "completion event",
            "comparison + comment",
        ],
        "PR candidate submitted -> PR comment": [
            "TFX run",
            "completion event",
            "comparison + comment",
        ],
    }
    assert all(took >= 0 for laps in report.latency.values() for _, took in laps.stages)
    assert "[5] summary" in narration
    assert "local stack stopped" in narration
