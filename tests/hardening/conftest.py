"""Fixtures for the hardening tests (the fakes that fail on purpose, `vertex_fake` and
`faulty_github`, are in tests/fakes/fixtures.py)."""

from __future__ import annotations

import pytest


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
