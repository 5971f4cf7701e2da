"""A small stateful fake of the Vertex AI v1 REST API for PipelineJobs (create, get, list).

The real `aiplatform_v1.PipelineServiceClient` (REST transport) talks to it, so requests are
serialised by the client library itself. Faults can be injected: any error status (503
UNAVAILABLE, 504 DEADLINE_EXCEEDED, 429 RESOURCE_EXHAUSTED, 403 PERMISSION_DENIED, 500
INTERNAL), an error returned after the job was created (a lost answer), and slow answers (client
timeouts). Every request is recorded, without its Authorization header.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel

_JOBS = re.compile(r"^/v1/(projects/[^/]+/locations/[^/]+)/pipelineJobs(?:/([^/]+))?$")
_LABEL = re.compile(r'labels\.([a-z0-9_-]+)\s*=\s*"([^"]*)"')
_STATE = re.compile(r'state\s*=\s*"([A-Z_]+)"')
_STATUS = {
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class Recorded(BaseModel):
    method: str
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any] | None
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many handler processes at once: queue them, never refuse


class FakeVertex:
    """Start with `start()`, stop with `stop()`; `endpoint` is what the client points at."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self._failures: list[tuple[int, bool, str]] = []  # (status, after the work, method)
        self._delays: list[float] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_port}"

    def fail_next(
        self, status: int, times: int = 1, after_create: bool = False, method: str = ""
    ) -> None:
        """Answer the next `times` requests (of `method`, when given) with `status`.
        `after_create`: do the work first (a create makes the job), then answer with the error,
        as when a response is lost."""
        with self._lock:
            self._failures.extend([(status, after_create, method)] * times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Hold the next `times` answers for `seconds` (the work is done after the wait)."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def set_state(self, job_id: str, state: str) -> None:
        with self._lock:
            for name, job in self.jobs.items():
                if name.endswith(f"/pipelineJobs/{job_id}"):
                    job["state"] = state

    def start(self) -> FakeVertex:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                del format, args

            def do_GET(self) -> None:
                fake._serve(self)

            def do_POST(self) -> None:
                fake._serve(self)

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-vertex").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = parse_qs(url.query)
        length = int(handler.headers.get("content-length") or 0)
        body = json.loads(handler.rfile.read(length)) if length else None
        headers = {k.lower(): v for k, v in handler.headers.items() if k.lower() != "authorization"}
        with self._lock:
            delay = self._delays.pop(0) if self._delays else 0.0
        if delay:
            time.sleep(delay)
        with self._lock:
            self.requests.append(
                Recorded(
                    method=handler.command, path=url.path, query=query, body=body, headers=headers
                )
            )
            status, payload = self._route(handler.command, url.path, query, body)
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
            pass

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, dict[str, Any]]:
        failure = next((f for f in self._failures if f[2] in ("", method)), None)
        if failure is not None:
            self._failures.remove(failure)
            status, after, _ = failure
            if not after:
                return _error(status, "injected outage")
            self._answer(method, path, query, body)
            return _error(status, "injected failure after the request was carried out")
        return self._answer(method, path, query, body)

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, dict[str, Any]]:
        match = _JOBS.match(path)
        if match is None:
            return _error(404, f"no route {method} {path}")
        parent, job_id = match.groups()
        if method == "POST" and job_id is None:
            job_id = (query.get("pipelineJobId") or [""])[0]
            name = f"{parent}/pipelineJobs/{job_id}"
            if not job_id or not isinstance(body, dict):
                return _error(400, "pipelineJobId and a body are required")
            if name in self.jobs:
                return _error(409, f"{name} already exists")
            now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
            self.jobs[name] = {
                **body,
                "name": name,
                "state": "PIPELINE_STATE_RUNNING",
                "createTime": now,
            }
            return 200, self.jobs[name]
        if method == "GET" and job_id is not None:
            job = self.jobs.get(f"{parent}/pipelineJobs/{job_id}")
            return (200, job) if job else _error(404, f"{job_id} not found")
        if method == "GET":
            text = (query.get("filter") or [""])[0]
            labels = dict(_LABEL.findall(text))
            states = set(_STATE.findall(text))
            found = [
                job
                for name, job in self.jobs.items()
                if name.startswith(parent + "/")
                and all(job.get("labels", {}).get(k) == v for k, v in labels.items())
                and (not states or job["state"] in states)
            ]
            return 200, {"pipelineJobs": found}
        return _error(404, f"no route {method} {path}")


def _error(code: int, message: str) -> tuple[int, dict[str, Any]]:
    return code, {
        "error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}
    }
