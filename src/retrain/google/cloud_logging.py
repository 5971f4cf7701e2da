"""Cloud Logging entries read through `gcloud logging read` (the inventory's decision log): the
CLI pages and authenticates as the operator already does, so no logging client is installed."""

from __future__ import annotations

import json
from typing import Any

from retrain.errors import BackendError
from retrain.shell import Runner


class CloudLogging:
    """Entries of one project matching a Logging query, newest first as gcloud returns them."""

    def __init__(self, runner: Runner, project: str) -> None:
        self._runner = runner
        self._project = project

    def read(self, query: str, freshness: str, limit: int) -> list[Any]:
        """`freshness` in gcloud's duration syntax (`30d`); raw LogEntry objects (JSON)."""
        out = self._runner.run(
            ["gcloud", "logging", "read", query, f"--project={self._project}",
             f"--freshness={freshness}", f"--limit={limit}", "--format=json"]
        )  # fmt: skip
        try:
            entries = json.loads(out or "[]")
        except json.JSONDecodeError as exc:
            raise BackendError(f"gcloud logging read: not JSON: {exc}") from exc
        if not isinstance(entries, list):
            raise BackendError("gcloud logging read: expected a JSON list of entries")
        return entries
