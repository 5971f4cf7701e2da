"""RunBackend that runs the spec's pipeline on this machine (`retrain run SPEC --local ...`).

Each job gets `<workdir>/_jobs/<job_id>/` (created atomically: a second submit of the same id
is ALREADY_EXISTS), with `job.json`, and the run's stdout/stderr. When the process ends, a
PipelineJob state-change log entry is published to the completion topic, exactly what the
Vertex log sink would forward, so `on_run_complete` cannot tell local from cloud.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from retrain.backends.base import JobInfo
from retrain.errors import BackendError
from retrain.events.pipeline_job import state_change_entry
from retrain.processes.procs import tied
from retrain.runs import NOT_BLESSED_EXIT, LocalLayout, RunRequest
from retrain.topics import Publisher

RUNNING = "PIPELINE_STATE_RUNNING"
SUCCEEDED = "PIPELINE_STATE_SUCCEEDED"
FAILED = "PIPELINE_STATE_FAILED"


def _record_file(workdir: Path, job_id: str) -> Path:
    return workdir / "_jobs" / job_id / "job.json"


def _write_record(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def record_own_run(workdir: Path, request: RunRequest) -> bool:
    """Put a run started by hand (`retrain run --local`) on the record, as the backend records
    the runs it starts, so `retrain status`, `lineage` and `inventory` see it. False when the
    job already has a record: the backend started this run and keeps its record itself."""
    job_dir = workdir / "_jobs" / request.job_id
    job_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        job_dir.mkdir()
    except FileExistsError:
        return False
    root = str(LocalLayout(workdir=workdir, spec=request.spec).pipeline_root)
    record = {"job_id": request.job_id, "spec": request.spec, "state": RUNNING,
              "labels": request.labels(), "pipeline_root": root, "pid": os.getpid()}  # fmt: skip
    _write_record(job_dir / "job.json", record)
    return True


def finish_own_run(workdir: Path, job_id: str, succeeded: bool, error: str = "") -> None:
    """The end state of a run `record_own_run` recorded."""
    path = _record_file(workdir, job_id)
    record = json.loads(path.read_text())
    state = SUCCEEDED if succeeded else FAILED
    _write_record(path, {**record, "state": state, "error": error[-800:]})


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalBackend:
    def __init__(
        self,
        *,
        workdir: Path,
        specs_dir: Path,
        project: str,
        region: str,
        completion_topic: str,
        publisher: Publisher,
        command: Sequence[str] = (sys.executable, "-m", "retrain.cli.main", "run"),
    ) -> None:
        self._workdir = workdir
        self._specs_dir = specs_dir
        self._project = project
        self._region = region
        self._topic = completion_topic
        self._publisher = publisher
        self._command = list(command)
        self.threads: list[threading.Thread] = []

    def _job_dir(self, job_id: str) -> Path:
        return self._workdir / "_jobs" / job_id

    def _read(self, job_id: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads((self._job_dir(job_id) / "job.json").read_text())
        except (OSError, json.JSONDecodeError):
            return None
        return data

    def _write(self, job_id: str, data: dict[str, Any]) -> None:
        _write_record(self._job_dir(job_id) / "job.json", data)

    def submit(self, request: RunRequest) -> bool:
        job_dir = self._job_dir(request.job_id)
        job_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            job_dir.mkdir()
        except FileExistsError:
            return False
        root = str(LocalLayout(workdir=self._workdir, spec=request.spec).pipeline_root)
        argv = [
            *self._command,
            str(self._specs_dir / f"{request.spec}.yaml"),
            "--local",
            "--workdir", str(self._workdir),
            "--run-id", request.job_id,
            "--trigger", request.trigger,
            "--git-sha", request.git_sha,
            "--event-id", request.event_id,
            "--data-window", request.data_window,
            "--data-snapshot", request.data_snapshot,
            "--baseline-version", request.baseline.version,
            "--baseline-reason", request.baseline.reason,
        ]  # fmt: skip
        if request.baseline.uri:
            argv += ["--baseline-uri", request.baseline.uri]
        if request.pr_number is not None:
            argv += ["--pr-number", str(request.pr_number)]
        record = {"job_id": request.job_id, "spec": request.spec, "state": RUNNING,
                  "labels": request.labels(), "pipeline_root": root, "pid": 0}  # fmt: skip
        self._write(request.job_id, record)
        try:
            process = subprocess.Popen(
                tied(argv),  # its own group, stopped if the submitting process dies
                stdout=(job_dir / "stdout.log").open("wb"),
                stderr=(job_dir / "stderr.log").open("wb"),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            self._write(
                request.job_id, {**record, "state": "PIPELINE_STATE_FAILED", "error": str(exc)}
            )
            raise BackendError(f"cannot start {argv[0]}: {exc}") from exc
        self._write(request.job_id, {**record, "pid": process.pid})
        watcher = threading.Thread(
            target=self._watch,
            args=(process, request.job_id),
            name=f"run-{request.job_id}",
            daemon=True,
        )
        self.threads.append(watcher)
        watcher.start()
        return True

    def _watch(self, process: subprocess.Popen[bytes], job_id: str) -> None:
        code = process.wait()
        record = self._read(job_id) or {}
        if code in (0, NOT_BLESSED_EXIT):  # it ran; a candidate not blessed is a verdict
            state, error = "PIPELINE_STATE_SUCCEEDED", ""
        elif code < 0:
            state, error = "PIPELINE_STATE_CANCELLED", f"stopped by signal {-code}"
        else:
            tail = (self._job_dir(job_id) / "stderr.log").read_bytes()[-800:]
            state, error = (
                "PIPELINE_STATE_FAILED",
                f"exit {code}: {tail.decode(errors='replace').strip()}",
            )
        self._write(job_id, {**record, "state": state, "error": error})
        now = datetime.now(timezone.utc)
        entry = state_change_entry(
            project=self._project,
            location=self._region,
            job_id=job_id,
            state=state,
            labels=record.get("labels", {}),
            pipeline_root=record.get("pipeline_root", ""),
            time=now,
            error=error,
        )
        attributes = {"logging.googleapis.com/timestamp": entry["timestamp"]}
        try:
            self._publisher.publish(self._topic, entry, attributes)
        except Exception as exc:  # a watcher thread has no caller to raise to
            print(
                f"retrain local backend: cannot publish completion of {job_id}: {exc}",
                file=sys.stderr,
            )

    def running(self, spec: str) -> list[str]:
        jobs = self._workdir / "_jobs"
        if not jobs.is_dir():
            return []
        found = []
        for job_dir in sorted(jobs.iterdir()):
            record = self._read(job_dir.name)
            if record and record.get("spec") == spec and record.get("state") == RUNNING:
                pid = int(record.get("pid") or 0)
                if pid == 0 or _pid_alive(pid):
                    found.append(job_dir.name)
        return found

    def jobs(self, spec: str) -> list[JobInfo]:
        """Every job of the spec this work directory holds, any state (for reports). A record
        that cannot be read is an error naming it, not a job silently left out."""
        jobs = self._workdir / "_jobs"
        found = []
        for job_dir in sorted(jobs.iterdir()) if jobs.is_dir() else []:
            info = self.describe(job_dir.name)
            if info is None:
                raise BackendError(f"{job_dir / 'job.json'}: not a readable job record")
            if info.labels.get("retrain-spec") == spec:
                found.append(info)
        return found

    def describe(self, job_id: str) -> JobInfo | None:
        record = self._read(job_id)
        if record is None:
            return None
        return JobInfo(
            job_id=job_id,
            state=record.get("state", ""),
            labels=record.get("labels", {}),
            pipeline_root=record.get("pipeline_root", ""),
            error=record.get("error", ""),
        )
