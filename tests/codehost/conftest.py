"""A fake GitHub per test, and a PyGithub-backed CodeHost pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrain.codehost.github import GitHubCodeHost, build_client
from tests.fakes.github_client import settings_for, spec_files
from tests.fakes.github_server import FakeGitHub


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(files=spec_files()) as server:
        yield server


@pytest.fixture
def host(fake: FakeGitHub) -> GitHubCodeHost:
    return GitHubCodeHost(build_client(settings_for(fake)), "acme/models")
