"""A fake GitHub per test, and a PyGithub-backed CodeHost pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from retrain.codehost.github import GitHubCodeHost, build_client

if TYPE_CHECKING:  # mypy names test modules from the repository root
    from tests.fakes.github_client import settings_for, spec_files
    from tests.fakes.github_server import FakeGitHub
else:  # pytest puts tests/ on sys.path (tests/ has no __init__.py)
    from fakes.github_client import settings_for, spec_files
    from fakes.github_server import FakeGitHub


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(files=spec_files()) as server:
        yield server


@pytest.fixture
def host(fake: FakeGitHub) -> GitHubCodeHost:
    return GitHubCodeHost(build_client(settings_for(fake)), "acme/models")
