"""Fixtures for the delivery tests: a bucket on the real GCS emulator (the Model Registry fake
is `registry_fake`, in tests/fakes/fixtures.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from retrain.google.clients import storage_client
from retrain.google.storage import GcsStorage

BUCKET = "acme-prod-retrain"  # the artefact bucket of helpers.config()


@pytest.fixture
def gcs(gcs_emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A client on the emulator with an empty artefact bucket; STORAGE_EMULATOR_HOST is set for
    code that builds its own client (and for `retrain` subprocesses given os.environ)."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    client = storage_client("acme-prod", emulator=gcs_emulator)
    bucket = client.create_bucket(BUCKET)
    yield client
    for blob in client.list_blobs(BUCKET):
        blob.delete()
    bucket.delete()


@pytest.fixture
def storage(gcs: Any, gcs_emulator: str) -> GcsStorage:
    return GcsStorage(lambda: storage_client("acme-prod", emulator=gcs_emulator))
