"""One fixture per fake server, each started for the test and stopped after it (a pytest
plugin, listed in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrain.localstack.fake_vertex import FakeVertex
from tests.fakes.faulty_github import FaultyGitHub
from tests.fakes.github_client import spec_files
from tests.fakes.github_server import FakeGitHub
from tests.fakes.model_registry import FakeModelRegistry


@pytest.fixture
def vertex_fake() -> Iterator[FakeVertex]:
    """The Vertex AI v1 REST fake the local stack ships (PipelineJobs; faults on request)."""
    server = FakeVertex().start()
    yield server
    server.stop()


@pytest.fixture
def registry_fake() -> Iterator[FakeModelRegistry]:
    """The Vertex fake answering the Model Registry routes too."""
    server = FakeModelRegistry()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def github_fake() -> Iterator[FakeGitHub]:
    """The GitHub REST fake, serving the repository's specs on its default branch."""
    with FakeGitHub(files=spec_files()) as server:
        yield server


@pytest.fixture
def faulty_github() -> Iterator[FaultyGitHub]:
    """The GitHub fake with held-back answers and errors after the fact (client timeouts,
    lost answers), serving the same specs."""
    server = FaultyGitHub(files=spec_files())
    server.start()
    yield server
    server.stop()
