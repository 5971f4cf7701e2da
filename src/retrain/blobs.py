"""The object-store ports (`BlobReader`, `BlobStore`, `ObjectStore`), and `Blobs`: local paths
as they are, gs:// through the Cloud Storage adapter the composition root hands in
(`retrain.google.storage`, the one way retrain reaches Cloud Storage).

Summaries and the metric history are read and written through it, so the handler never knows
where a run kept its files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from retrain.errors import BackendError, ConfigError, NotFound, SummaryError


class BlobReader(Protocol):
    def read_bytes(self, uri: str) -> bytes:
        """The object's bytes; a missing object is an error (SummaryError from `Blobs`)."""
        ...


class BlobStore(BlobReader, Protocol):
    """Summaries and the metric history: read, and written (or replaced) whole."""

    def write_bytes(self, uri: str, data: bytes) -> None: ...


class ObjectStore(BlobReader, Protocol):
    """What delivery publishes: files uploaded or copied once under keys never overwritten."""

    def upload(self, path: Path, uri: str, *, overwrite: bool) -> bool:
        """Write the file to `uri`; False when `uri` exists and `overwrite` is off (kept)."""
        ...

    def copy(self, source: str, uri: str) -> bool:
        """Copy server side, unless `uri` exists (then False)."""
        ...

    def read_text(self, uri: str) -> str | None:
        """The object's text, None when there is no such object."""
        ...


def split(uri: str) -> tuple[str, str]:
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    if not uri.startswith("gs://") or not bucket or not name:
        raise BackendError(f"{uri}: not a gs://BUCKET/OBJECT address")
    return bucket, name


class Blobs:
    """Local paths directly; gs:// through `gcs` (built by `retrain.wiring.build_blobs`; without
    one, as in a local run, a gs:// address is a configuration error)."""

    def __init__(self, gcs: BlobStore | None = None) -> None:
        self._gcs = gcs

    def _storage(self) -> BlobStore:
        if self._gcs is None:
            raise ConfigError("a gs:// address, but no Cloud Storage client was configured")
        return self._gcs

    def read_bytes(self, uri: str) -> bytes:
        if not uri.startswith("gs://"):
            try:
                return Path(uri).read_bytes()
            except FileNotFoundError as exc:
                raise SummaryError(f"{uri}: not found") from exc
            except OSError as exc:
                raise SummaryError(f"{uri}: cannot read: {exc}") from exc
        try:
            split(uri)
        except BackendError as exc:
            raise SummaryError(str(exc)) from exc
        try:
            return self._storage().read_bytes(uri)
        except NotFound as exc:
            raise SummaryError(f"{uri}: not found") from exc

    def write_bytes(self, uri: str, data: bytes) -> None:
        if not uri.startswith("gs://"):
            path = Path(uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            return
        self._storage().write_bytes(uri, data)


def is_under(uri: str, root: str) -> bool:
    """Whether `uri` lies inside `root` (both gs:// or both local paths): what an untrusted
    event names may only be read or proposed from where our runs write."""
    if not uri or not root:
        return False
    if root.startswith("gs://") or uri.startswith("gs://"):
        if not (uri.startswith("gs://") and root.startswith("gs://")):
            return False
        parts = uri.removeprefix("gs://").split("/")
        if any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", ".."):
            return False
        prefix = root.rstrip("/") + "/"
        return uri == root.rstrip("/") or uri.startswith(prefix)
    return Path(uri).resolve().is_relative_to(Path(root).resolve())
