"""The PyGithub adapter against the fake GitHub: comments kept in place, retries, auth."""

from __future__ import annotations

import logging
import time

import pytest

from retrain.codehost.github import GitHubCodeHost, build_client
from retrain.errors import BackendError, ConfigError, TransientError
from retrain.report import comment_marker
from retrain.settings import Settings
from tests.fakes.github_client import TOKEN, settings_for
from tests.fakes.github_server import FakeGitHub

MARKER = comment_marker("churn", 1)


def test_creates_then_updates_in_place(github_fake: FakeGitHub, host: GitHubCodeHost) -> None:
    pr = github_fake.open_pr()
    first = host.upsert_comment(pr, MARKER, f"{MARKER}\nauc 0.80")
    second = host.upsert_comment(pr, MARKER, f"{MARKER}\nauc 0.81")
    third = host.upsert_comment(pr, MARKER, f"{MARKER}\nauc 0.82")
    assert first.created and not second.created and not third.created
    assert first.id == second.id == third.id
    (comment,) = github_fake.comments_on(pr)
    assert comment["body"] == f"{MARKER}\nauc 0.82"
    assert len(github_fake.calls("POST", r"/issues/\d+/comments$")) == 1
    assert len(github_fake.calls("PATCH", r"/issues/comments/")) == 2
    assert first.url.startswith(github_fake.base_url)


def test_finds_the_marker_beyond_the_first_page(
    github_fake: FakeGitHub, host: GitHubCodeHost
) -> None:
    pr = github_fake.open_pr()
    for i in range(45):
        github_fake.add_comment(pr, f"chatter {i}")
    ours = github_fake.add_comment(pr, f"{MARKER}\nold numbers", user="retrain-bot")
    # not ours: does not start with it
    github_fake.add_comment(pr, "a reply quoting it:\n" + MARKER)
    posted = host.upsert_comment(pr, MARKER, "new numbers")
    assert posted.id == ours and not posted.created
    pages = {r.query.get("page", "1") for r in github_fake.calls("GET", r"/issues/\d+/comments$")}
    assert pages == {"1", "2"}
    bodies = [c["body"] for c in github_fake.comments_on(pr) if c["id"] == ours]
    assert bodies == [f"{MARKER}\nnew numbers"]  # the marker is added when missing


def test_other_specs_markers_are_left_alone(github_fake: FakeGitHub, host: GitHubCodeHost) -> None:
    pr = github_fake.open_pr()
    host.upsert_comment(pr, comment_marker("house-prices", pr), "rmse")
    host.upsert_comment(pr, MARKER, "auc")
    assert len(github_fake.comments_on(pr)) == 2


def test_duplicates_from_a_lost_response_are_removed(
    github_fake: FakeGitHub, host: GitHubCodeHost
) -> None:
    pr = github_fake.open_pr()
    keep = github_fake.add_comment(pr, f"{MARKER}\none", user="retrain-bot")
    github_fake.add_comment(pr, f"{MARKER}\ntwo", user="retrain-bot")
    host.upsert_comment(pr, MARKER, "three")
    assert [(c["id"], c["body"]) for c in github_fake.comments_on(pr)] == [
        (keep, f"{MARKER}\nthree")
    ]


def test_a_502_is_retried(github_fake: FakeGitHub, host: GitHubCodeHost) -> None:
    pr = github_fake.open_pr()
    github_fake.fail_next("GET", r"/comments$", 502, {"message": "Server Error"})
    host.upsert_comment(pr, MARKER, "auc")
    statuses = [r.status for r in github_fake.calls("GET", r"/comments$")]
    assert statuses == [502, 200, 200]  # the list, its retry, the check after the create
    assert len(github_fake.comments_on(pr)) == 1


def test_persistent_5xx_becomes_a_transient_error(github_fake: FakeGitHub) -> None:
    host = GitHubCodeHost(build_client(settings_for(github_fake, retries=2)), "acme/models")
    pr = github_fake.open_pr()
    for _ in range(3):
        github_fake.fail_next("GET", r"/comments$", 503, {"message": "Unavailable"})
    with pytest.raises(TransientError):
        host.upsert_comment(pr, MARKER, "auc")
    assert len(github_fake.calls("GET", r"/comments$")) == 3


def test_a_rate_limit_waits_for_the_reset(github_fake: FakeGitHub, host: GitHubCodeHost) -> None:
    pr = github_fake.open_pr()
    reset = int(time.time()) + 1
    github_fake.fail_next(
        "GET",
        r"/comments$",
        403,
        {"message": "API rate limit exceeded for user ID 1.", "documentation_url": "x"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    host.upsert_comment(pr, MARKER, "auc")
    # the list that hit the limit, its retry, then the check after the create
    limited, retried, _check = github_fake.calls("GET", r"/comments$")
    assert (limited.status, retried.status) == (403, 200)
    assert retried.at >= reset  # waited for the reset, not merely retried
    assert retried.at - limited.at >= 0.9  # GithubRetry adds a second of margin
    assert len(github_fake.comments_on(pr)) == 1


def test_a_rate_limit_reset_too_far_away_is_left_for_redelivery(github_fake: FakeGitHub) -> None:
    host = GitHubCodeHost(
        build_client(settings_for(github_fake, max_rate_limit_wait=5)), "acme/models"
    )
    pr = github_fake.open_pr()
    github_fake.fail_next(
        "GET",
        r"/comments$",
        403,
        {"message": "API rate limit exceeded for user ID 1."},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3600)},
    )
    with pytest.raises(TransientError):
        host.upsert_comment(pr, MARKER, "auc")


def test_a_missing_pr_is_a_permanent_error(host: GitHubCodeHost) -> None:
    with pytest.raises(BackendError):
        host.upsert_comment(999, MARKER, "auc")


def test_bad_credentials_are_permanent_and_the_token_is_never_logged(
    github_fake: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    pr = github_fake.open_pr()
    caplog.set_level(logging.DEBUG)
    good = GitHubCodeHost(build_client(settings_for(github_fake)), "acme/models")
    good.upsert_comment(pr, MARKER, "auc")
    wrong = "wrong-token-also-not-a-secret"
    bad = GitHubCodeHost(build_client(settings_for(github_fake, token=wrong)), "acme/models")
    with pytest.raises(BackendError, match="401"):
        bad.upsert_comment(pr, MARKER, "auc")
    assert any("comments" in r.getMessage() for r in caplog.records)  # PyGithub did log
    assert not [r for r in caplog.records if TOKEN in r.getMessage() or wrong in r.getMessage()]
    assert TOKEN not in repr(settings_for(github_fake))
    assert {r.auth for r in github_fake.requests} == {"token", "none"}


def test_github_app_installation_auth(github_fake: FakeGitHub) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    env = {
        "RETRAIN_GITHUB_REPO": "acme/models",
        "RETRAIN_GITHUB_API_URL": github_fake.base_url,
        "RETRAIN_GITHUB_APP_ID": github_fake.app_id,
        "RETRAIN_GITHUB_APP_INSTALLATION_ID": str(github_fake.installation_id),
        "RETRAIN_GITHUB_APP_PRIVATE_KEY": pem,
    }
    settings = (
        Settings.from_env(env)
        .github()
        .model_copy(update={"seconds_between_requests": 0, "seconds_between_writes": 0})
    )
    pr = github_fake.open_pr()
    GitHubCodeHost(build_client(settings), "acme/models").upsert_comment(pr, MARKER, "auc")
    # mint the installation token; list; create; who we are (GET /app, the App's JWT); check
    assert [r.auth for r in github_fake.requests] == [
        "app-jwt",
        "installation",
        "installation",
        "app-jwt",
        "installation",
    ]
    assert github_fake.comments_on(pr)[0]["user"] == "retrain-app[bot]"


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env({"GITHUB_REPOSITORY": "acme/models", "GITHUB_TOKEN": "t"}).github()
    assert settings.repo == "acme/models" and settings.api_url.startswith("https://")
    with pytest.raises(ConfigError, match="no GitHub credentials"):
        Settings.from_env({"RETRAIN_GITHUB_REPO": "acme/models"}).github()
    with pytest.raises(ConfigError, match="repo"):
        Settings.from_env({"RETRAIN_GITHUB_TOKEN": "t"}).github()
    with pytest.raises(ConfigError, match="GitHub App auth needs"):
        Settings.from_env({"RETRAIN_GITHUB_REPO": "a/b", "RETRAIN_GITHUB_APP_ID": "1"}).github()


def test_two_instances_creating_at_once_leave_one_comment(
    github_fake: FakeGitHub, host: GitHubCodeHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both instances list no comment, then both create (a completion delivered to two
    instances at once): each one, after its create, keeps the oldest of the bot's marked
    comments and deletes its own if it is not that one."""
    from github.Issue import Issue

    pr = github_fake.open_pr()
    create = Issue.create_comment
    raced: list[int] = []

    def other_instance_first(self: Issue, body: str) -> object:
        if not raced:  # the other instance's create lands between our list and our create
            raced.append(
                github_fake.add_comment(pr, f"{MARKER}\nfrom the other", user="retrain-bot")
            )
        return create(self, body)

    monkeypatch.setattr(Issue, "create_comment", other_instance_first)
    posted = host.upsert_comment(pr, MARKER, "ours")
    comments = github_fake.comments_on(pr)
    assert [c["id"] for c in comments] == raced  # one comment: the older one
    assert comments[0]["body"] == f"{MARKER}\nours"  # carrying the newest text
    assert posted.id == raced[0]
