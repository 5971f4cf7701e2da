"""RunBackend on Vertex AI Pipelines through `aiplatform_v1.PipelineServiceClient`.

Not the high-level SDK: it imports in seconds and looks up buckets and projects on submit.
The request is built as the SDK builds it (`pipeline_template`): the compiled spec inline,
read from gs:// or Artifact Registry (`template_source`), the registry URL as `templateUri`,
runtime parameters in the form the template's schema version takes.
The client is built at first use (`retrain.google.clients`); `api_endpoint` may be
`http://127.0.0.1:PORT` (a local stand-in: REST, anonymous credentials).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from retrain.backends.base import JobInfo
from retrain.backends.pipeline_template import (
    CompiledTemplate,
    is_registry_url,
    parse_template,
    runtime_config,
)
from retrain.errors import AlreadyExists, NotFound, TransientError
from retrain.google.clients import Endpoint, gapic_client
from retrain.google.template_registry import TemplateReader, Templates
from retrain.runs import RunRequest, label_value
from retrain.vendor_errors import Backoff, is_transient, status_of, translated

T = TypeVar("T")
TEMPLATE_CACHE = 32  # parsed templates kept per process; a template URI names one commit
# Every PipelineState that is not final (aiplatform_v1 types/pipeline_state.py): a cancelling
# job still holds its resources, a paused one resumes; both count against max_concurrent_runs.
ACTIVE_STATES = (
    "PIPELINE_STATE_QUEUED",
    "PIPELINE_STATE_PENDING",
    "PIPELINE_STATE_RUNNING",
    "PIPELINE_STATE_CANCELLING",
    "PIPELINE_STATE_PAUSED",
)


class VertexBackend:
    def __init__(
        self,
        *,
        project: str,
        region: str,
        template_uri: str,
        pipeline_root: str,
        service_account: str = "",
        api_endpoint: str = "",
        attempts: int = 4,
        first_delay: float = 0.5,
        max_delay: float = 4.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        templates: TemplateReader | None = None,
    ) -> None:
        """`template_uri` may hold {spec}, {spec_version} and {git_sha}: compiled templates are
        versioned by commit, so a run uses the pipeline of the commit that was deployed.
        `timeout` bounds each call (seconds), so a hung connection is retried, not waited on.
        `templates` reads the compiled templates (default: gs:// and Artifact Registry)."""
        self._project = project
        self._region = region
        self._template_uri = template_uri
        self._pipeline_root = pipeline_root.rstrip("/")
        self._service_account = service_account
        self._api_endpoint = api_endpoint
        self._backoff = Backoff(attempts, first_delay, max_delay, sleep=sleep)
        self._timeout = timeout
        self._client_instance: Any = None
        self._templates = templates or Templates(project, timeout=timeout)
        self._parsed: dict[str, CompiledTemplate] = {}

    @property
    def parent(self) -> str:
        return f"projects/{self._project}/locations/{self._region}"

    def _client(self) -> Any:
        if self._client_instance is None:
            from google.cloud import aiplatform_v1

            endpoint = Endpoint.regional("aiplatform", self._region, self._api_endpoint)
            self._client_instance = gapic_client(aiplatform_v1.PipelineServiceClient, endpoint)
        return self._client_instance

    def _call(self, what: str, call: Callable[[bool], T]) -> T:
        """Retry what may pass on a second try (the table in `retrain.vendor_errors` says which:
        429, 5xx, timeouts, broken connections) with capped exponential backoff, then give up
        with TransientError (Pub/Sub redelivers). `call` is told whether an earlier attempt may
        have done the work: every failure but a 429 (refused before it started) may have."""
        ambiguous = False

        def attempt(number: int) -> T:
            nonlocal ambiguous
            try:
                with translated(f"vertex {what}"):
                    return call(ambiguous)
            except TransientError as exc:
                ambiguous = ambiguous or status_of(exc.__cause__ or exc) != 429
                if number == self._backoff.attempts:
                    raise TransientError(f"{exc} (after {number} attempts)") from exc.__cause__
                raise

        return self._backoff.run(attempt, is_transient)

    def template(self, request: RunRequest) -> CompiledTemplate:
        """The compiled template of the request's commit, read once per process."""
        uri = self._template_uri.format(
            spec=request.spec, spec_version=request.spec_version, git_sha=request.git_sha
        )
        if uri not in self._parsed:
            if len(self._parsed) >= TEMPLATE_CACHE:
                self._parsed.pop(next(iter(self._parsed)))
            self._parsed[uri] = parse_template(self._templates.read(uri), uri)
        return self._parsed[uri]

    def job_body(self, request: RunRequest) -> dict[str, Any]:
        """The PipelineJob as REST JSON: what `submit` sends."""
        template = self.template(request)
        body: dict[str, Any] = {
            "displayName": request.job_id,
            "pipelineSpec": template.pipeline_spec,
            "labels": request.labels(),
            "runtimeConfig": runtime_config(
                template, f"{self._pipeline_root}/{request.spec}", request.parameters()
            ),
        }
        if is_registry_url(template.uri):
            body["templateUri"] = template.uri
        if self._service_account:
            body["serviceAccount"] = self._service_account
        return body

    def submit(self, request: RunRequest) -> bool:
        from google.cloud import aiplatform_v1

        job = aiplatform_v1.PipelineJob.from_json(json.dumps(self.job_body(request)))
        client = self._client()

        def create(ambiguous: bool) -> bool:
            try:
                with translated(f"vertex create {request.job_id}"):
                    client.create_pipeline_job(
                        parent=self.parent,
                        pipeline_job=job,
                        pipeline_job_id=request.job_id,
                        timeout=self._timeout,
                    )
            except AlreadyExists:  # this job id was submitted before...
                # ...unless our own earlier attempt made it and its answer was lost.
                return ambiguous
            return True

        return self._call(f"create {request.job_id}", create)

    def _list(self, spec: str, states: tuple[str, ...] = ()) -> list[JobInfo]:
        query = f'labels.retrain-spec="{label_value(spec)}"'
        if states:
            query += " AND (" + " OR ".join(f'state="{s}"' for s in states) + ")"
        request = {"parent": self.parent, "filter": query, "order_by": "create_time desc"}
        jobs = self._call(  # the client inside: building it reads credentials, and may fail
            f"list for {spec}",
            lambda _: list(
                self._client().list_pipeline_jobs(request=request, timeout=self._timeout)
            ),
        )
        return [_info(job) for job in jobs]

    def running(self, spec: str) -> list[str]:
        return [job.job_id for job in self._list(spec, ACTIVE_STATES)]

    def jobs(self, spec: str) -> list[JobInfo]:
        """The spec's jobs Vertex still lists, any state, newest first (for reports)."""
        return self._list(spec)

    def describe(self, job_id: str) -> JobInfo | None:
        client = self._client()
        name = f"{self.parent}/pipelineJobs/{job_id}"
        try:
            job = self._call(
                f"get {job_id}", lambda _: client.get_pipeline_job(name=name, timeout=self._timeout)
            )
        except NotFound:
            return None
        return _info(job)


def _info(job: Any) -> JobInfo:
    return JobInfo(
        job_id=str(job.name).rsplit("/", 1)[-1],
        state=job.state.name,
        labels=dict(job.labels),
        pipeline_root=job.runtime_config.gcs_output_directory,
        error=job.error.message,
        service_account=job.service_account,
        template_uri=job.template_uri,
    )
