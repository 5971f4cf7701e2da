"""Failure notices: one issue per spec, found by its marker, updated in place, closed by the
next successful run. Real PyGithub against the fake GitHub, and the local code host."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from retrain.codehost import LocalCodeHost
from retrain.codehost.github import GitHubCodeHost, build_client
from retrain.completion import CompletionHandler
from retrain.completion.notices import Notices
from retrain.report.notice import NOTICE_LABELS, notice_marker
from retrain.runs import RunOutcome, Trigger
from tests.codehost.test_completion import _write
from tests.fakes.github_client import settings_for
from tests.fakes.github_server import FakeGitHub
from tests.fakes.summaries import load

TOKEN_SHAPED = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # not a real token
TITLE = "retrain: churn: retraining failed"


def _failed(root: Path, job_id: str, trigger: Trigger = "data_arrival") -> RunOutcome:
    return RunOutcome(
        job_id=job_id,
        spec="churn",
        state="failed",
        trigger=trigger,
        pipeline_root=str(root),
        failed_task="Trainer",
        error=f"Trainer: permission denied; header Authorization: token {TOKEN_SHAPED}",
        event_id="m-42",
        production=True,
    )


def _handler(host: Any) -> CompletionHandler:
    owners = {"churn": "@acme/retention-ml"}
    return CompletionHandler(host=host, notices=Notices(host, lambda spec: owners.get(spec, "")))


def test_failed_runs_keep_one_issue_per_spec_and_a_success_closes_it(
    github_fake: FakeGitHub, tmp_path: Path
) -> None:
    handler = _handler(GitHubCodeHost(build_client(settings_for(github_fake)), "acme/models"))
    first = handler.process(_failed(tmp_path, "churn-data-1"))
    handler.process(_failed(tmp_path, "churn-drift-2", trigger="drift"))
    assert first.action == "noticed"
    (issue,) = github_fake.issues_titled(TITLE)
    body = issue["body"]
    assert body.startswith(notice_marker("churn"))
    assert "@acme/retention-ml" in body and "`Trainer`" in body and "`drift`" in body
    assert "churn-drift-2" in body and "churn-data-1" not in body  # updated in place
    assert TOKEN_SHAPED not in body and "[redacted]" in body
    assert [label["name"] for label in issue["labels"]] == list(NOTICE_LABELS)
    assert (
        github_fake.calls("POST", r"/issues$") and len(github_fake.calls("POST", r"/issues$")) == 1
    )

    _write(tmp_path, load("churn_pass"), "churn-data-3", 0.84)
    ok = RunOutcome(
        job_id="churn-data-3", spec="churn", state="succeeded", trigger="data_arrival",
        pipeline_root=str(tmp_path), production=True,
    )  # fmt: skip
    handler.process(ok)
    (closed,) = github_fake.issues_titled(TITLE)
    assert closed["state"] == "closed" and closed["state_reason"] == "completed"
    (comment,) = github_fake.comments_on(closed["number"])
    assert "churn-data-3" in comment["body"]

    handler.process(_failed(tmp_path, "churn-data-4"))  # a new failure: a new issue
    assert [i["state"] for i in github_fake.issues_titled(TITLE)] == ["closed", "open"]


def test_a_failed_pull_request_run_comments_on_its_pr_not_an_issue(
    github_fake: FakeGitHub, tmp_path: Path
) -> None:
    handler = _handler(GitHubCodeHost(build_client(settings_for(github_fake)), "acme/models"))
    pr = github_fake.open_pr()
    outcome = _failed(tmp_path, "churn-pr-1", trigger="pull_request").model_copy(
        update={"pr_number": pr}
    )
    handler.process(outcome)
    assert github_fake.issues_titled(TITLE) == [] and len(github_fake.comments_on(pr)) == 1


def test_the_local_code_host_shows_the_notice(tmp_path: Path) -> None:
    out = io.StringIO()
    host = LocalCodeHost(tmp_path / "work", tmp_path, out)
    handler = _handler(host)
    handler.process(_failed(tmp_path, "churn-data-1"))
    handler.process(_failed(tmp_path, "churn-data-2"))
    (issue,) = host.issues()
    assert issue.state == "open" and "churn-data-2" in issue.body
    assert TOKEN_SHAPED not in out.getvalue() and "== issue #1 (open)" in out.getvalue()
    notices = Notices(host, lambda spec: "")
    notices.resolve("churn", "churn-data-5")
    (issue,) = host.issues()
    assert issue.state == "closed" and "churn-data-5" in issue.comments[0]


def test_two_instances_opening_a_notice_at_once_leave_one_issue(
    github_fake: FakeGitHub, monkeypatch: Any
) -> None:
    """Both list no open notice, then both create one: after its create, each keeps the
    oldest of the bot's open notices for the spec and closes its own if it is not that one."""
    from github.Repository import Repository

    host = GitHubCodeHost(build_client(settings_for(github_fake)), "acme/models")
    marker = notice_marker("churn")
    create = Repository.create_issue
    raced: list[int] = []

    def other_instance_first(self: Repository, *args: Any, **kwargs: Any) -> Any:
        if not raced:  # the other instance's create lands between our list and our create
            number = github_fake._new_issue(TITLE, f"{marker}\nfrom the other", "retrain-bot")
            github_fake.state.issues[number]["labels"] = list(NOTICE_LABELS)
            raced.append(number)
        return create(self, *args, **kwargs)

    monkeypatch.setattr(Repository, "create_issue", other_instance_first)
    posted = host.open_or_update_issue(marker, TITLE, "Trainer failed", NOTICE_LABELS)
    issues = github_fake.state.issues
    open_ = [n for n, i in issues.items() if i.get("state", "open") == "open"]
    assert open_ == raced and posted.number == raced[0]
    assert issues[raced[0]]["body"].endswith("Trainer failed")  # the newest text, kept there


def test_with_no_bot_login_set_another_users_marked_issue_is_left_alone(
    github_fake: FakeGitHub,
) -> None:
    """Issue 25: with RETRAIN_GITHUB_BOT_LOGIN unset (the default) the bot edited and closed
    any open issue carrying the notice marker and label. Its login is learnt from GitHub."""
    marker = notice_marker("churn")
    with github_fake._lock:
        planted = github_fake._new_issue(TITLE, f"{marker}\nI am mallory's issue", "mallory")
        github_fake.state.issues[planted]["labels"] = list(NOTICE_LABELS)
    host = GitHubCodeHost(build_client(settings_for(github_fake)), "acme/models")  # bot_login unset
    notices = Notices(host, lambda spec: "")
    notices.resolve("churn", "churn-data-1")
    assert github_fake.state.issues[planted].get("state", "open") == "open"
    assert github_fake.comments_on(planted) == []
    handler = CompletionHandler(host=host, notices=notices)
    handler.process(_failed(Path("/nonexistent"), "churn-data-2"))
    mallorys, ours = github_fake.issues_titled(TITLE)
    assert mallorys["number"] == planted and "mallory's issue" in str(mallorys["body"])
    assert ours["user"]["login"] == "retrain-bot"
