"""Fixtures for the hardening tests: a Firestore emulator for the module that needs it, and
fakes that fail on purpose (fake Vertex from retrain.localstack, fake GitHub from tests.fakes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrain.localstack.fake_vertex import FakeVertex
from retrain.localstack.procs import port_open
from retrain.localstack.stack import start_firestore_emulator
from tests.fakes.github_client import spec_files
from tests.hardening.faulty_github import FaultyGitHub


@pytest.fixture(scope="module")
def firestore_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc = start_firestore_emulator(tmp_path_factory.mktemp("firestore-logs"))
    try:
        yield f"127.0.0.1:{proc.port}"
    finally:
        proc.stop()
    assert not port_open(proc.port)


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
