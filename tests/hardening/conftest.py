"""Fixtures for the hardening tests: fakes that fail on purpose (fake Vertex from
retrain.localstack, fake GitHub from tests.fakes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrain.localstack.fake_vertex import FakeVertex
from tests.fakes.github_client import spec_files
from tests.hardening.faulty_github import FaultyGitHub


@pytest.fixture
def vertex() -> Iterator[FakeVertex]:
    server = FakeVertex().start()
    yield server
    server.stop()


@pytest.fixture
def github() -> Iterator[FaultyGitHub]:
    server = FaultyGitHub(files=spec_files())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def private_key() -> str:
    """A GitHub App private key made for the test (2048-bit RSA, PKCS#8 PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
