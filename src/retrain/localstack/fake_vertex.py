"""A small stateful fake of the Vertex AI v1 REST API for PipelineJobs (create, get, list).

The real `aiplatform_v1.PipelineServiceClient` (REST transport) talks to it, so requests are
serialised by the client library itself. A create is held to the documented rules of
`projects.locations.pipelineJobs.create` (`refusal`, each rule with its source) and refused
with 400 INVALID_ARGUMENT as Vertex would; `finish` makes the `pipeline_job_events` log entry
a log sink delivers when a job ends. Faults can be injected: any error status (503
UNAVAILABLE, 504 DEADLINE_EXCEEDED, 429 RESOURCE_EXHAUSTED, 403 PERMISSION_DENIED, 500
INTERNAL), an error returned after the job was created (a lost answer), and slow answers (client
timeouts). Every request is recorded, without its Authorization header.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel

from retrain.events.pipeline_job import state_change_entry
from retrain.localstack.httpd import serve, shut

_JOBS = re.compile(r"^/v1/(projects/[^/]+/locations/[^/]+)/pipelineJobs(?:/([^/]+))?$")
_LABEL = re.compile(r'labels\.([a-z0-9_-]+)\s*=\s*"([^"]*)"')
_STATE = re.compile(r'state\s*=\s*"([A-Z_]+)"')
_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# A Template Registry stand-in: the pipeline spec a registry URI holds, None when none.
Registry = Callable[[str], "dict[str, Any] | None"]


class Recorded(BaseModel):
    method: str
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any] | None
    headers: dict[str, str]


class FakeVertex:
    """Start with `start()`, stop with `stop()`; `endpoint` is what the client points at."""

    def __init__(self, registry: Registry | None = None) -> None:
        """`registry`: the Template Registry stand-in's lookup, for creates that name a
        templateUri without an inline pipelineSpec."""
        self.registry = registry
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

    def finish(self, job_id: str, state: str, error: str = "") -> dict[str, Any]:
        """End the job in `state` and return the log entry Vertex writes to
        `pipeline_job_events` for it (the entry a log sink forwards to Pub/Sub)."""
        with self._lock:
            name, job = next(
                (n, j) for n, j in self.jobs.items() if n.endswith(f"/pipelineJobs/{job_id}")
            )
            job["state"] = state
        _, project, _, location, _, _ = name.split("/")
        return state_change_entry(
            project=project,
            location=location,
            job_id=job_id,
            state=state,
            labels=dict(job.get("labels", {})),
            pipeline_root=job["runtimeConfig"]["gcsOutputDirectory"],
            time=datetime.now(timezone.utc),
            error=error,
        )

    def start(self) -> FakeVertex:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                del format, args

            def do_GET(self) -> None:
                fake._serve(self)

            def do_POST(self) -> None:
                fake._serve(self)

        self._server = serve(Handler, "fake-vertex")
        return self

    def stop(self) -> None:
        shut(self._server)
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
            problem = refusal(job_id, body, self.registry)
            if problem:
                return _error(400, problem)
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


# -- the rules of pipelineJobs.create ------------------------------------------------------
# v1 REST reference: https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.pipelineJobs
# SDK: google/cloud/aiplatform/pipeline_jobs.py (PipelineJob.__init__), constants/pipeline.py,
# utils/pipeline_utils.py (PipelineRuntimeConfigBuilder), utils/__init__.py.

# constants/pipeline.py `_VALID_NAME_PATTERN` (PipelineJob.__init__ refuses other ids); the REST
# reference: pipelineJobId "less than 128 characters, and valid characters are /[a-z][0-9]-/".
JOB_ID = re.compile(r"^[a-z][-a-z0-9]{0,127}$")
# constants/pipeline.py `_VALID_AR_URL`; REST reference, PipelineJob.templateUri: "Currently,
# only uri from Vertex Template Registry & Gallery is supported."
REGISTRY_URL = re.compile(r"^https://([\w-]+)-kfp\.pkg\.dev/.*", re.IGNORECASE)
# REST reference, PipelineJob.labels: keys and values "no longer than 64 characters (Unicode
# codepoints), can only contain lowercase letters, numeric characters, underscores and dashes";
# labels (Resource Manager, "Requirements for labels"): keys start with a lowercase letter, at
# most 63 characters each, at most 64 labels per resource.
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
MAX_LABELS = 64
# REST reference, PipelineJob.serviceAccount: "The service account that the pipeline workload
# runs as" (an account email). IAM service account ids: 6-30 characters, a lowercase letter
# first; the Compute Engine default account is PROJECT_NUMBER-compute@developer.
SERVICE_ACCOUNT = re.compile(
    r"^([a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]+-compute)@[a-z0-9.-]+\.gserviceaccount\.com$"
)
# utils/__init__.py `validate_display_name`: at most 128 characters.
MAX_DISPLAY_NAME = 128
# utils/pipeline_utils.py `_get_vertex_value`: the Value field per legacy parameter type.
VALUE_FIELDS = {"INT": "intValue", "DOUBLE": "doubleValue", "STRING": "stringValue"}


def _schema(version: Any) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in str(version).split("."))
    except ValueError:
        return None


def _label_problem(labels: Any) -> str:
    if not isinstance(labels, dict):
        return "labels must be a map of strings"
    if len(labels) > MAX_LABELS:
        return f"at most {MAX_LABELS} labels, got {len(labels)}"
    for key, value in labels.items():
        if not LABEL_KEY.match(key):
            return f"label key {key!r} is invalid"
        if not isinstance(value, str) or not LABEL_VALUE.match(value):
            return f"label value {value!r} of {key!r} is invalid"
    return ""


def _parameter_problem(spec: dict[str, Any], runtime: dict[str, Any]) -> str:
    """Parameters in the field the template's schema version takes, naming root inputs, typed
    as they are declared (utils/pipeline_utils.py `PipelineRuntimeConfigBuilder.build` and
    `_get_vertex_value`)."""
    version = _schema(spec.get("schemaVersion"))
    if version is None:
        return f"pipelineSpec.schemaVersion {spec.get('schemaVersion')!r} is not a version"
    inputs = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    types = {n: d.get("parameterType") or d.get("type") for n, d in inputs.items()}
    typed = version <= (2, 0, 0)
    wrong, right = ("parameterValues", "parameters") if typed else ("parameters", "parameterValues")
    if runtime.get(wrong):
        return (
            f"runtimeConfig.{wrong} is not supported for pipelineSpec.schemaVersion "
            f"{spec.get('schemaVersion')}: use runtimeConfig.{right}"
        )
    given = runtime.get(right) or {}
    for name, value in given.items():
        if name not in types:
            return f"runtime parameter {name!r} is not an input of the pipeline"
        if typed:
            field = VALUE_FIELDS.get(str(types[name]))
            if not isinstance(value, dict) or list(value) != [field]:
                return f"runtime parameter {name!r} must be a Value with {field} ({types[name]})"
        elif types[name] == "STRING" and not isinstance(value, str):
            return f"runtime parameter {name!r} must be a string"
    return ""


def refusal(job_id: str, body: dict[str, Any], registry: Registry | None = None) -> str:
    """Why Vertex would refuse to create this PipelineJob; empty when it would accept it.
    `registry` gives the spec a Template Registry URI holds (None: not there)."""
    if not JOB_ID.match(job_id):
        return f"pipelineJobId {job_id!r} must match {JOB_ID.pattern}"
    if len(str(body.get("displayName", ""))) > MAX_DISPLAY_NAME:
        return f"displayName is longer than {MAX_DISPLAY_NAME} characters"
    template_uri = body.get("templateUri", "")
    if template_uri and not REGISTRY_URL.match(template_uri):
        return (
            f"templateUri {template_uri!r} is not a Vertex Template Registry URI "
            "(https://REGION-kfp.pkg.dev/...); send the compiled spec as pipelineSpec"
        )
    spec = body.get("pipelineSpec")
    if not spec and template_uri:
        # REST reference, templateUri: "A template uri from where the PipelineJob.pipeline_spec,
        # if empty, will be downloaded."
        spec = registry(template_uri) if registry else None
        if spec is None:
            return f"templateUri {template_uri!r}: no such template in the registry"
    if not isinstance(spec, dict) or not spec:
        # PipelineJob.pipelineSpec is what runs: the SDK always sends it (PipelineJob.__init__);
        # the service downloads it only from a Template Registry templateUri.
        return "pipelineSpec is required (templateUri is accepted only from the Template Registry)"
    if not isinstance(spec.get("root"), dict):
        return "pipelineSpec.root is required"
    problem = _label_problem(body.get("labels", {}))
    if problem:
        return problem
    account = body.get("serviceAccount", "")
    if account and not SERVICE_ACCOUNT.match(account):
        return f"serviceAccount {account!r} is not a service account email"
    runtime = body.get("runtimeConfig")
    if not isinstance(runtime, dict):
        return "runtimeConfig is required"
    root = runtime.get("gcsOutputDirectory", "")
    # REST reference, RuntimeConfig.gcsOutputDirectory: "Required. A path in a Cloud Storage
    # bucket"; pipeline_utils.py `build`: "Pipeline root must be specified".
    if not isinstance(root, str) or not root.startswith("gs://") or len(root) <= len("gs://"):
        return f"runtimeConfig.gcsOutputDirectory {root!r} must be a gs:// path"
    return _parameter_problem(spec, runtime)


def _error(code: int, message: str) -> tuple[int, dict[str, Any]]:
    return code, {
        "error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}
    }
