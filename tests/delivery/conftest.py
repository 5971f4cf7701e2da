"""Fixtures for the delivery tests: a real GCS emulator and the Model Registry fake."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrain.delivery.storage import GcsStorage
from retrain.google_api import storage_client
from retrain.localstack import procs

from .fake_model_registry import FakeModelRegistry

BUCKET = "acme-prod-retrain"  # the artefact bucket of helpers.config()


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gcp-storage-emulator (PyPI) on 127.0.0.1, in memory; yields its http://host:port."""
    port = procs.free_port()
    log = Path(tmp_path_factory.mktemp("gcs")) / "emulator.log"
    argv = [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1",
            "--port", str(port), "--in-memory"]  # fmt: skip
    proc = procs.start("gcs-emulator", argv, port, log)
    try:
        proc.wait_ready(30)
        yield proc.url
    finally:
        proc.stop()


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


@pytest.fixture
def registry_fake() -> Iterator[FakeModelRegistry]:
    fake = FakeModelRegistry()
    fake.start()
    yield fake
    fake.stop()
