"""The blob store port and its adapter: local paths as they are, gs:// through
google-cloud-storage (imported on first use; the emulator is found via STORAGE_EMULATOR_HOST).

Summaries, templates and the metric history are read and written through it, so the handler
that reads them never knows where a run kept its files.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

from retrain.errors import BackendError, NotFound, SummaryError
from retrain.vendor_errors import translated


class BlobStore(Protocol):
    def read_bytes(self, uri: str) -> bytes:
        """The object's bytes; SummaryError if it does not exist."""
        ...

    def write_bytes(self, uri: str, data: bytes) -> None: ...


class Blobs:
    """Local paths directly; gs:// through a google.cloud.storage.Client, built at first use."""

    def __init__(self, gcs_client: Any = None) -> None:
        self._gcs = gcs_client

    def _client(self) -> Any:
        if self._gcs is None:
            try:
                storage: Any = importlib.import_module("google.cloud.storage")
            except ImportError as exc:
                raise BackendError(
                    "reading gs:// needs google-cloud-storage, which is not installed here"
                ) from exc
            self._gcs = storage.Client()
        return self._gcs

    def _blob(self, uri: str) -> Any:
        bucket, _, name = uri.removeprefix("gs://").partition("/")
        if not bucket or not name:
            raise SummaryError(f"{uri}: not a gs://BUCKET/OBJECT address")
        return self._client().bucket(bucket).blob(name)

    def read_bytes(self, uri: str) -> bytes:
        if not uri.startswith("gs://"):
            try:
                return Path(uri).read_bytes()
            except FileNotFoundError as exc:
                raise SummaryError(f"{uri}: not found") from exc
            except OSError as exc:
                raise SummaryError(f"{uri}: cannot read: {exc}") from exc
        try:
            with translated(uri):
                data: bytes = self._blob(uri).download_as_bytes()
        except NotFound as exc:
            raise SummaryError(f"{uri}: not found") from exc
        return data

    def write_bytes(self, uri: str, data: bytes) -> None:
        if not uri.startswith("gs://"):
            path = Path(uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            return
        with translated(uri):
            self._blob(uri).upload_from_string(data, content_type="application/json")
