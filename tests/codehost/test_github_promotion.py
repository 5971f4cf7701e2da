"""Promotion PRs through the PyGithub adapter: one open PR per spec, updated by newer runs."""

from __future__ import annotations

import yaml

from retrain.codehost import PromotionRequest
from retrain.codehost.github import GitHubCodeHost
from tests.fakes.github_server import FakeGitHub

BRANCH = "retrain/promote-churn"


def _request(version: str) -> PromotionRequest:
    return PromotionRequest(
        spec="churn",
        spec_path="specs/churn.yaml",
        version=version,
        title=f"Promote churn to {version}",
        body=f"Candidate {version} passed its checks.",
    )


def test_opens_then_updates_one_promotion_pr(github_fake: FakeGitHub, host: GitHubCodeHost) -> None:
    original = github_fake.file_on("main", "specs/churn.yaml")
    first = host.open_or_update_promotion(_request("run-1"))
    assert first is not None and first.created
    pull = github_fake.pull(first.number)
    assert (pull["head"], pull["base"], pull["title"]) == (BRANCH, "main", "Promote churn to run-1")
    assert pull["labels"] == ["retrain", "promotion"]
    on_branch = github_fake.file_on(BRANCH, "specs/churn.yaml")
    assert on_branch is not None and yaml.safe_load(on_branch)["promotion"]["version"] == "run-1"
    assert "# Binary classifier" in on_branch  # comments survive the edit
    assert github_fake.file_on("main", "specs/churn.yaml") == original  # main is untouched

    second = host.open_or_update_promotion(_request("run-2"))
    assert second is not None and not second.created and second.number == first.number
    assert github_fake.open_pulls() == [first.number]
    assert github_fake.pull(first.number)["title"] == "Promote churn to run-2"
    on_branch = github_fake.file_on(BRANCH, "specs/churn.yaml")
    assert on_branch is not None and yaml.safe_load(on_branch)["promotion"]["version"] == "run-2"
    assert len(github_fake.calls("POST", r"/git/refs$")) == 1  # created once, then moved
    assert len(github_fake.calls("PATCH", r"/git/refs/heads/")) == 1
    assert github_fake.pull(first.number)["labels"] == ["retrain", "promotion"]


def test_a_closed_promotion_pr_is_not_reused(github_fake: FakeGitHub, host: GitHubCodeHost) -> None:
    first = host.open_or_update_promotion(_request("run-1"))
    assert first is not None
    github_fake.state.pulls[first.number]["state"] = "closed"  # a reviewer rejected it
    second = host.open_or_update_promotion(_request("run-2"))
    assert second is not None and second.created and second.number != first.number


def test_nothing_to_propose_when_main_already_records_the_version(
    github_fake: FakeGitHub, host: GitHubCodeHost
) -> None:
    text = github_fake.file_on("main", "specs/churn.yaml")
    assert text is not None
    github_fake.state.commits[github_fake.state.refs["main"]]["specs/churn.yaml"] = text.replace(
        "alias: champion", 'alias: champion\n  version: "run-1"'
    )
    assert host.open_or_update_promotion(_request("run-1")) is None
    assert github_fake.open_pulls() == []
