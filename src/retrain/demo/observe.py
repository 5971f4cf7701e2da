"""Watch the local stack from outside, as a user would: function logs, job records, PR files.

The demo asserts only what it can read here, so a step that did not happen cannot be narrated
as if it had.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from retrain.errors import RetrainError

T = TypeVar("T")
TERMINAL_STATES = {
    "PIPELINE_STATE_SUCCEEDED": "succeeded",
    "PIPELINE_STATE_FAILED": "failed",
    "PIPELINE_STATE_CANCELLED": "cancelled",
}


class DemoError(RetrainError):
    """A step of the demo did not happen as narrated."""


@dataclass(frozen=True)
class LoggedDecision:
    function: str
    decision: str
    spec: str
    job_id: str
    reason: str
    event_key: str
    alert: bool


def decisions(logs_dir: Path) -> list[LoggedDecision]:
    """Every decision the function servers logged (their stdout, one JSON object per line)."""
    found = []
    for log in sorted(logs_dir.glob("on_*.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                record: dict[str, Any] = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "decision" not in record:
                continue
            found.append(
                LoggedDecision(
                    function=log.stem,
                    decision=str(record["decision"]),
                    spec=str(record.get("spec", "")),
                    job_id=str(record.get("job_id", "")),
                    reason=str(record.get("reason", "")),
                    event_key=str(record.get("event_key", "")),
                    alert=bool(record.get("alert", False)),
                )
            )
    return found


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, poll: float = 0.5) -> T:
    """Poll `probe` until it returns something; a bounded wait with a clear failure."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(poll)


def job_record(runs_dir: Path, job_id: str) -> dict[str, Any] | None:
    try:
        record: dict[str, Any] = json.loads((runs_dir / "_jobs" / job_id / "job.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return record


def job_progress(runs_dir: Path, job_id: str) -> list[str]:
    """The progress lines the run has printed so far."""
    log = runs_dir / "_jobs" / job_id / "stdout.log"
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip().startswith("[")]


def pr_comments(codehost_dir: Path, number: int) -> list[Path]:
    return sorted((codehost_dir / f"pr-{number}" / "comments").glob("*.md"))


def promotion_pulls(codehost_dir: Path) -> list[dict[str, Any]]:
    pulls = []
    for path in sorted(codehost_dir.glob("pr-*/pull.json")):
        pull: dict[str, Any] = json.loads(path.read_text())
        if str(pull.get("head", "")).startswith("retrain/promote-"):
            pulls.append(pull)
    return pulls
