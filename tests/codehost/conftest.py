"""A PyGithub-backed CodeHost pointed at the fake GitHub of the test (`github_fake`)."""

from __future__ import annotations

import pytest

from retrain.codehost.github import GitHubCodeHost, build_client
from tests.fakes.github_client import settings_for
from tests.fakes.github_server import FakeGitHub


@pytest.fixture
def host(github_fake: FakeGitHub) -> GitHubCodeHost:
    return GitHubCodeHost(build_client(settings_for(github_fake)), "acme/models")
