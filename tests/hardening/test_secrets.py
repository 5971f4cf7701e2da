"""No token, key or credential appears in any log line, decision, exception or comment, under
any failure path: bad credentials, 5xx, timeouts, rate limits, GitHub App token exchange
failures, Vertex refusals and outages, invalid settings. Everything the process writes is
captured (file descriptors, every logger at DEBUG, exceptions with their tracebacks)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from retrain.codehost.config import GitHubSettings
from retrain.codehost.github import GitHubCodeHost, build_client
from retrain.completion import CompletionHandler
from retrain.errors import RetrainError
from retrain.events.envelope import pubsub_body
from retrain.events.pipeline_job import state_change_entry
from retrain.google.vertex import VertexBackend
from retrain.localstack.fake_vertex import FakeVertex
from retrain.routing.decision import StdoutLog
from retrain.routing.index import load_index
from retrain.routing.service import Service
from retrain.runs import RunRequest
from retrain.settings import Settings
from retrain.state.memory import MemoryStore
from tests.fakes.faulty_github import FaultyGitHub
from tests.fakes.templates import MemoryTemplates, compiled
from tests.routing.helpers import SPECS, arrival

SECRET_TOKEN = "ghp_S3cretTokenValue0123456789abcdefXYZ"
JWT_HEADER = "eyJhbGciOi"  # base64 of '{"alg":': the start of every JWT


@pytest.fixture
def github(faulty_github: FaultyGitHub) -> FaultyGitHub:
    # a valid token, unless a test says otherwise
    faulty_github.tokens[SECRET_TOKEN] = "retrain-bot"
    return faulty_github


def _settings(github: FaultyGitHub, **changes: object) -> GitHubSettings:
    return GitHubSettings.model_validate(
        {
            "repo": "acme/models",
            "api_url": github.base_url,
            "token": SECRET_TOKEN,
            "backoff_factor": 0,
            "retries": 2,
            "timeout": 1,
            "max_rate_limit_wait": 1,
            "seconds_between_requests": 0,
            "seconds_between_writes": 0,
            **changes,
        }
    )


def _run_complete(service: Service, job_id: str, root: str, pr: int) -> list[str]:
    """Deliver a failed PR run's completion; the texts of whatever was raised."""
    entry = state_change_entry(
        project="acme-analytics",
        location="europe-west4",
        job_id=job_id,
        state="PIPELINE_STATE_FAILED",
        labels={"retrain-spec": "churn", "retrain-trigger": "pull_request", "retrain-pr": str(pr)},
        pipeline_root=root,
        time=datetime(2026, 3, 2, tzinfo=timezone.utc),
        error="Trainer failed: OOM",
        failed_task="trainer",
    )
    try:
        service.handle("run_complete", pubsub_body(entry, f"done-{job_id}", {}))
    except RetrainError as exc:
        return ["".join(traceback.format_exception(exc))]
    return []


TEMPLATE_URI = "gs://acme-ml/templates/churn.json"

Fault = Callable[[FaultyGitHub], None]


def _unknown_token(g: FaultyGitHub) -> None:
    del g.tokens[SECRET_TOKEN]


def _bad_gateway(g: FaultyGitHub) -> None:
    for _ in range(4):
        g.fail_next("GET", r"/comments$", 502, {"message": "bad gateway"})


def _slow(g: FaultyGitHub) -> None:
    for _ in range(4):
        g.delay_next("GET", r"/comments$", 2.0)


GITHUB_FAULTS: dict[str, Fault] = {
    "401 bad credentials": _unknown_token,
    "persistent 502": _bad_gateway,
    "timeout": _slow,
    "rate limit beyond the wait": lambda g: g.fail_next(
        "GET",
        r"/comments$",
        403,
        {"message": "API rate limit exceeded"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9999999999"},
    ),
    "500 after the comment was made": lambda g: g.fail_after("POST", r"/comments$"),
}


@pytest.mark.parametrize("fault", GITHUB_FAULTS)
@pytest.mark.parametrize("auth", ["token", "app"])
def test_no_credential_in_any_output_when_github_fails(
    fault: str,
    auth: str,
    github: FaultyGitHub,
    private_key: str,
    vertex_fake: FakeVertex,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    if auth == "app":
        settings = _settings(
            github,
            token=None,
            app_id=github.app_id,
            app_installation_id=github.installation_id,
            app_private_key=private_key,
        )
    else:
        settings = _settings(github)
    host = GitHubCodeHost(build_client(settings), "acme/models")
    backend = VertexBackend(
        project="acme-analytics",
        region="europe-west4",
        template_uri=TEMPLATE_URI,
        templates=MemoryTemplates({TEMPLATE_URI: compiled()}),
        pipeline_root="gs://acme-ml/root",
        api_endpoint=vertex_fake.endpoint,
        first_delay=0.01,
        timeout=0.5,
    )
    service = Service(
        index=lambda: load_index(SPECS),
        store=MemoryStore(),
        backend=backend,
        sink=lambda: CompletionHandler(host=host),
        log=StdoutLog(),
    )
    pr = github.open_pr()
    GITHUB_FAULTS[fault](github)
    if auth == "app" and fault == "401 bad credentials":
        github.fail_next("POST", r"/access_tokens$", 401, {"message": "A JSON web token could"})
    raised = _run_complete(service, "churn-pr-secret-1", str(tmp_path), pr)
    # and a Vertex failure on the same process, for the logs
    vertex_fake.fail_next(403)
    service.handle("data_arrival", arrival(900, "secret-load"))
    vertex_fake.fail_next(503, times=8)
    try:
        backend.submit(
            RunRequest(job_id="churn-x", spec="churn", spec_version="v", trigger="manual")
        )
    except RetrainError as exc:
        raised.append("".join(traceback.format_exception(exc)))

    out, err = capfd.readouterr()
    texts = [out, err, *raised]
    texts += [r.getMessage() for r in caplog.records]
    texts += [r.exc_text or "" for r in caplog.records]
    texts += [c["body"] for c in github.comments_on(pr)]
    texts += [r.model_dump_json() for r in vertex_fake.requests]
    assert out.count('"decision"') >= 2  # the decisions were logged
    _assert_clean(texts, private_key, github.installation_token)


def test_no_credential_in_settings_errors(private_key: str) -> None:
    texts = []
    broken_envs = [
        {"RETRAIN_GITHUB_TOKEN": SECRET_TOKEN, "RETRAIN_GITHUB_REPO": "not a repo"},
        {
            "RETRAIN_GITHUB_REPO": "acme/models",
            "RETRAIN_GITHUB_APP_ID": "1",
            "RETRAIN_GITHUB_APP_INSTALLATION_ID": "not-a-number",
            "RETRAIN_GITHUB_APP_PRIVATE_KEY": private_key,
        },
        {
            "RETRAIN_GITHUB_REPO": "acme/models",
            "RETRAIN_GITHUB_APP_PRIVATE_KEY": private_key,
        },
    ]
    for env in broken_envs:
        with pytest.raises(RetrainError) as caught:
            Settings.from_env(env).github()
        texts.append("".join(traceback.format_exception(caught.value)))
    with pytest.raises(RetrainError) as bad:
        Settings.from_env({"RETRAIN_PROJECT": SECRET_TOKEN, "RETRAIN_GIT_SHA": SECRET_TOKEN})
    texts.append(str(bad.value))
    settings = _settings_from_values(private_key)
    texts += [repr(settings), str(settings), settings.model_dump_json()]
    _assert_clean(texts, private_key, "")


def _settings_from_values(private_key: str) -> GitHubSettings:
    return GitHubSettings.model_validate(
        {"repo": "a/b", "token": SECRET_TOKEN, "app_private_key": private_key}
    )


def _assert_clean(texts: list[str], private_key: str, installation_token: str) -> None:
    key_lines = [line for line in private_key.splitlines() if "PRIVATE KEY" not in line]
    secrets = [SECRET_TOKEN, JWT_HEADER, *key_lines[:3]]
    if installation_token:
        secrets.append(installation_token)
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a credential leaked: ...{text[:300]}"
