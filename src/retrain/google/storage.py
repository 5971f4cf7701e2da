"""Cloud Storage through google-cloud-storage: the one way retrain reads and writes gs:// objects
(templates, release indexes, run summaries, the metric history).

Published keys are never overwritten: an upload or copy "if absent" first asks whether the
object exists, then writes with the precondition `ifGenerationMatch=0`, so a writer that races
us in between makes the write fail (412), which counts as "already there".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from retrain.blobs import split
from retrain.errors import BackendError, NotFound
from retrain.google.clients import DEFAULT_TIMEOUT
from retrain.vendor_errors import translated


class GcsStorage:
    """The real one. `client` is built at first use (see `retrain.google.clients.storage_client`);
    each call, its retries included, gives up after `timeout` seconds."""

    def __init__(self, client: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT) -> None:
        from google.cloud.storage.retry import DEFAULT_RETRY

        self._make = client
        self._client: Any = None
        self._call = {"timeout": timeout, "retry": DEFAULT_RETRY.with_timeout(timeout)}

    def _blob(self, uri: str) -> Any:
        if self._client is None:
            self._client = self._make()
        bucket, name = split(uri)
        return self._client.bucket(bucket).blob(name)

    def _write_if_absent(self, uri: str, write: Callable[[dict[str, Any]], None]) -> bool:
        from google.api_core import exceptions as api

        with translated(f"writing {uri}"):
            if self._blob(uri).exists(**self._call):
                return False
            try:
                write({"if_generation_match": 0, **self._call})
            except api.PreconditionFailed:  # someone wrote it since we looked
                return False
        return True

    def upload(self, path: Path, uri: str, *, overwrite: bool) -> bool:
        blob = self._blob(uri)
        if overwrite:
            with translated(f"writing {uri}"):
                blob.upload_from_filename(str(path), **self._call)
            return True
        return self._write_if_absent(uri, lambda pre: blob.upload_from_filename(str(path), **pre))

    def copy(self, source: str, uri: str) -> bool:
        src = self._blob(source)
        bucket, name = split(uri)

        def write(pre: dict[str, Any]) -> None:
            src.bucket.copy_blob(src, self._client.bucket(bucket), name, **pre)

        return self._write_if_absent(uri, write)

    def read_text(self, uri: str) -> str | None:
        try:
            with translated(f"reading {uri}"):
                text: str = self._blob(uri).download_as_text(**self._call)
        except NotFound:
            self._require_bucket(uri)
            return None
        return text

    def _require_bucket(self, uri: str) -> None:
        """A missing bucket is a misconfiguration, not an absent object. Asked with object
        permissions only: listing the object's own name (`Client.list_blobs`, a GET of
        `b/BUCKET/o` in google-cloud-storage 3.17 client.py, the JSON API's objects.list:
        `storage.objects.list`) answers 404 only when the bucket is missing. Not
        `Bucket.exists()` (bucket.py: a GET of `b/BUCKET`, buckets.get), which needs
        `storage.buckets.get`: the deployer's `roles/storage.objectAdmin` does not carry it."""
        bucket, name = split(uri)
        try:
            with translated(f"reading {uri}"):
                listed = self._client.list_blobs(bucket, prefix=name, max_results=1, **self._call)
                list(listed)
        except NotFound as exc:
            raise BackendError(f"{uri}: bucket {bucket} does not exist") from exc

    def read_bytes(self, uri: str) -> bytes:
        with translated(f"reading {uri}"):
            data: bytes = self._blob(uri).download_as_bytes(**self._call)
        return data

    def write_bytes(self, uri: str, data: bytes, content_type: str = "application/json") -> None:
        """Write (or replace) the object: for documents that are rewritten, like the history."""
        with translated(f"writing {uri}"):
            self._blob(uri).upload_from_string(data, content_type=content_type, **self._call)
