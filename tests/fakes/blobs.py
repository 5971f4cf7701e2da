"""An in-memory BlobStore for tests that need gs:// paths but no storage server (the GCS
emulator is used where the storage client itself is under test)."""

from __future__ import annotations

from retrain.errors import SummaryError


class MemoryBlobs:
    def __init__(self, objects: dict[str, bytes] | None = None) -> None:
        self.objects: dict[str, bytes] = dict(objects or {})

    def read_bytes(self, uri: str) -> bytes:
        if uri not in self.objects:
            raise SummaryError(f"{uri}: not found")
        return self.objects[uri]

    def write_bytes(self, uri: str, data: bytes) -> None:
        self.objects[uri] = data
