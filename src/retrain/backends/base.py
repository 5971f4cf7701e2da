"""The RunBackend port. Adapters translate vendor errors into retrain.errors at the call."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from retrain.runs import RunRequest


class JobInfo(BaseModel):
    """What the completion handler needs when the state-change entry did not carry it."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    state: str
    labels: dict[str, str]
    pipeline_root: str = ""
    error: str = ""


class RunBackend(Protocol):
    def submit(self, request: RunRequest) -> bool:
        """Start the run; True when created, False when that job id already existed.

        Raises TransientError when the backend is briefly unavailable (after bounded retries)
        and BackendError when it refuses for good.
        """
        ...

    def running(self, spec: str) -> list[str]:
        """Job ids of the spec's runs that have not finished (for the concurrency limit)."""
        ...

    def describe(self, job_id: str) -> JobInfo | None:
        """The job's labels and output location; None when it does not exist."""
        ...


class DryRunBackend:
    """Submits nothing and sees no running job: `retrain route` uses it to show decisions."""

    def __init__(self) -> None:
        self.requests: list[RunRequest] = []

    def submit(self, request: RunRequest) -> bool:
        self.requests.append(request)
        return True

    def running(self, spec: str) -> list[str]:
        del spec
        return []

    def describe(self, job_id: str) -> JobInfo | None:
        del job_id
        return None
