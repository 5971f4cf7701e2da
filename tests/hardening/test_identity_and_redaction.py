"""Comments and log lines are what leaves the process: the bot edits only its own comments
(however well a forged one copies the marker), and every text is redacted one way."""

from __future__ import annotations

import io
import json

import pytest

from retrain.codehost.github import GitHubCodeHost, build_client
from retrain.redact import REDACTED, redact
from retrain.report import comment_marker
from retrain.report.escape import fenced
from retrain.routing.decision import Delivery, StdoutLog
from tests.fakes.github_client import settings_for
from tests.fakes.github_server import FakeGitHub

MARKER = comment_marker("churn", 42)
FORGED = f"{MARKER}\n### retrain: churn\n**Verdict: Pass**"


def _hijack_then_post_twice(github_fake: FakeGitHub, host: GitHubCodeHost, bot: str) -> None:
    pr = github_fake.open_pr()
    forged = github_fake.add_comment(pr, FORGED, user="mallory")
    host.upsert_comment(pr, MARKER, "Verdict: Fail (auc 0.61 < 0.75)")
    host.upsert_comment(pr, MARKER, "Verdict: Fail (auc 0.60 < 0.75)")
    comments = github_fake.comments_on(pr)
    assert [(c["user"], c["body"]) for c in comments] == [
        ("mallory", FORGED),  # untouched: not ours to edit
        (bot, f"{MARKER}\nVerdict: Fail (auc 0.60 < 0.75)"),
    ]
    assert comments[0]["id"] == forged
    assert not [r for r in github_fake.requests if r.status == 403]


def test_a_forged_marker_comment_is_not_ours_with_a_token(github_fake: FakeGitHub) -> None:
    host = GitHubCodeHost(build_client(settings_for(github_fake)), "acme/models")
    _hijack_then_post_twice(github_fake, host, "retrain-bot")
    assert len(github_fake.calls("GET", r"^/user$")) == 1  # learnt once, then kept


def test_a_forged_marker_comment_is_not_ours_as_an_app(
    github_fake: FakeGitHub, private_key: str
) -> None:
    settings = settings_for(
        github_fake,
        token=None,
        app_id=github_fake.app_id,
        app_installation_id=github_fake.installation_id,
        app_private_key=private_key,
    )
    host = GitHubCodeHost(build_client(settings), "acme/models")
    _hijack_then_post_twice(github_fake, host, "retrain-app[bot]")
    (app,) = github_fake.calls("GET", r"^/app$")
    assert app.auth == "app-jwt"
    assert github_fake.calls("GET", r"^/user$") == []  # an installation is no user


def test_the_fake_answers_user_and_app_as_github_does(github_fake: FakeGitHub) -> None:
    installation = github_fake.handle(
        "GET", "/user", {"authorization": f"token {github_fake.installation_token}"}, b""
    )
    assert installation[0] == 403
    status, _, body = github_fake.handle(
        "GET", "/user", {"authorization": "token test-token-not-a-secret"}, b""
    )
    assert status == 200 and json.loads(body)["login"] == "retrain-bot"
    assert (
        github_fake.handle("GET", "/app", {"authorization": "token test-token-not-a-secret"}, b"")[
            0
        ]
        == 401
    )


SECRETS = [
    "ya29." + "a0AfH6SMBx3exampleTokenValue_-1234",
    "eyJhbGciOiJSUzI1NiJ9" + ".eyJpc3MiOiI0MjQyIiwiZXhwIjoxfQ" + ".c2lnbmF0dXJlLWJ5dGVz",
    "Authorization: Basic " + "cmV0cmFpbjpodW50ZXIy",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_new_credential_shapes_are_redacted_in_comments(secret: str) -> None:
    block = fenced(f"Trainer failed: {secret} was refused")
    assert secret.split()[-1] not in block and REDACTED in block


def test_the_password_of_a_url_is_redacted_and_the_rest_kept() -> None:
    text = "could not reach https://deploy:hunter2@registry.example/v2 (timeout)"
    assert (
        redact(text) == f"could not reach https://deploy:{REDACTED}@registry.example/v2 (timeout)"
    )


@pytest.mark.parametrize(
    "text", ["basic statistics were computed", "see https://example.org:8080/a@b", "eyJ alone"]
)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "secret",
    [*SECRETS, "https://u:hunter2@host/x", "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"],
)
def test_decision_log_lines_are_redacted(secret: str) -> None:
    stream = io.StringIO()
    decision = Delivery("run_complete", "e1").decide(
        "completed", f"failed: trainer said {secret}", spec="churn", job_id="churn-data-1"
    )
    StdoutLog(stream).record(decision)
    line = stream.getvalue()
    record = json.loads(line)
    assert REDACTED in record["message"] and REDACTED in record["reason"]
    hidden = secret.split()[-1].split(":")[-1].split("@")[0]
    assert hidden not in line
