"""The metric history kept beside the runs: one small JSON document per spec, in a blob store."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from retrain.blobs import BlobStore
from retrain.errors import SummaryError
from retrain.report.history import HistoryFile, HistoryPoint, merged

log = logging.getLogger(__name__)


class BlobHistory:
    """`<root>/<spec>.json` under a directory or a gs:// prefix.

    Two runs of one spec finishing at the same instant may race and lose a point; the
    history only feeds a chart, and the next run restores the trend.
    """

    def __init__(self, blobs: BlobStore, root: str) -> None:
        self.blobs = blobs
        self.root = root.rstrip("/")

    def _uri(self, spec: str) -> str:
        return f"{self.root}/{spec}.json"

    def _load(self, spec: str) -> list[HistoryPoint]:
        try:
            raw = self.blobs.read_bytes(self._uri(spec))
        except SummaryError:
            return []
        try:
            return HistoryFile.model_validate_json(raw).points
        except ValidationError:
            log.warning("metric history %s is unreadable; starting it again", self._uri(spec))
            return []

    def record(self, spec: str, point: HistoryPoint) -> None:
        doc = HistoryFile(spec=spec, points=merged(self._load(spec), point))
        self.blobs.write_bytes(self._uri(spec), doc.model_dump_json(indent=1).encode())

    def recent(self, spec: str, limit: int) -> list[HistoryPoint]:
        return self._load(spec)[-limit:]
