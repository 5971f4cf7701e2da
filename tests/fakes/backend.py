"""A RunBackend that keeps jobs in memory and records every call: the test double of the port,
with the one behaviour that matters (a job id exists at most once, as Vertex answers
ALREADY_EXISTS for a second create with the same pipeline job id) and injectable outages;
and two variants: one that knows jobs started before the test, one that refuses submits."""

from __future__ import annotations

import threading

from retrain.backends.base import JobInfo
from retrain.errors import BackendError, TransientError
from retrain.runs import RunRequest


class RecordingBackend:
    def __init__(self, transient_failures: int = 0, finish_at_once: bool = False) -> None:
        """`finish_at_once`: runs end as soon as they start (concurrency limits never bite)."""
        self._lock = threading.Lock()
        self.calls: list[RunRequest] = []
        self.jobs: dict[str, RunRequest] = {}
        self.active: set[str] = set()
        self.transient_failures = transient_failures
        self.finish_at_once = finish_at_once

    def submit(self, request: RunRequest) -> bool:
        with self._lock:
            self.calls.append(request)
            if self.transient_failures > 0:
                self.transient_failures -= 1
                raise TransientError("backend unavailable (injected)")
            if request.job_id in self.jobs:
                return False
            self.jobs[request.job_id] = request
            if not self.finish_at_once:
                self.active.add(request.job_id)
            return True

    def finish(self, job_id: str) -> None:
        with self._lock:
            self.active.discard(job_id)

    def running(self, spec: str) -> list[str]:
        with self._lock:
            return sorted(j for j in self.active if self.jobs[j].spec == spec)

    def describe(self, job_id: str) -> JobInfo | None:
        with self._lock:
            request = self.jobs.get(job_id)
        if request is None:
            return None
        state = "PIPELINE_STATE_RUNNING" if job_id in self.active else "PIPELINE_STATE_SUCCEEDED"
        return JobInfo(
            job_id=job_id,
            state=state,
            labels=request.labels(),
            pipeline_root=f"/runs/{request.spec}",
        )


class KnownJobsBackend(RecordingBackend):
    """A RecordingBackend that also knows jobs started before the test (by earlier deliveries):
    `describe` answers for them as Vertex would, from the job itself."""

    def __init__(self, known: dict[str, JobInfo]) -> None:
        super().__init__()
        self.known = known

    def describe(self, job_id: str) -> JobInfo | None:
        return self.known.get(job_id) or super().describe(job_id)


class RefusingBackend(RecordingBackend):
    """Refuses submits for good with `message` (a permission the project lacks, a bad
    template): every one, or only the next `refusals`. A refused request is still recorded."""

    def __init__(
        self,
        message: str = "403 permission denied on pipelineJobs.create (injected)",
        refusals: int | None = None,
    ) -> None:
        super().__init__()
        self.message = message
        self.refusals = refusals

    def submit(self, request: RunRequest) -> bool:
        if self.refusals is None or self.refusals > 0:
            if self.refusals is not None:
                self.refusals -= 1
            with self._lock:
                self.calls.append(request)
            raise BackendError(self.message)
        return super().submit(request)
