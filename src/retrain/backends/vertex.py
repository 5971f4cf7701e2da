"""RunBackend on Vertex AI Pipelines through `aiplatform_v1.PipelineServiceClient`.

Not the high-level SDK: it imports in seconds and looks up buckets and projects on submit.
The client is built at first use. `api_endpoint` may be `http://127.0.0.1:PORT`: then the REST
transport is used with anonymous credentials (the local fake server in the tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from retrain.backends.base import JobInfo
from retrain.errors import BackendError, TransientError
from retrain.runs import RunRequest, label_value

T = TypeVar("T")
ACTIVE_STATES = ("PIPELINE_STATE_QUEUED", "PIPELINE_STATE_PENDING", "PIPELINE_STATE_RUNNING")


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
    ) -> None:
        """`template_uri` may hold {spec}, {spec_version} and {git_sha}: compiled templates are
        versioned by commit, so a run uses the pipeline of the commit that was deployed.
        `timeout` bounds each call (seconds), so a hung connection is retried, not waited on."""
        self._project = project
        self._region = region
        self._template_uri = template_uri
        self._pipeline_root = pipeline_root.rstrip("/")
        self._service_account = service_account
        self._api_endpoint = api_endpoint
        self._attempts = attempts
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._timeout = timeout
        self._sleep = sleep
        self._client_instance: Any = None

    @property
    def parent(self) -> str:
        return f"projects/{self._project}/locations/{self._region}"

    def _client(self) -> Any:
        if self._client_instance is None:
            from google.api_core.client_options import ClientOptions
            from google.cloud import aiplatform_v1

            endpoint = self._api_endpoint or f"{self._region}-aiplatform.googleapis.com"
            kwargs: dict[str, Any] = {"client_options": ClientOptions(api_endpoint=endpoint)}
            if endpoint.startswith("http://"):
                from google.auth.credentials import AnonymousCredentials

                kwargs.update(transport="rest", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
            self._client_instance = aiplatform_v1.PipelineServiceClient(**kwargs)
        return self._client_instance

    def _call(self, what: str, call: Callable[[bool], T]) -> T:
        """Retry what may pass on a second try (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL,
        RESOURCE_EXHAUSTED (429), timeouts and broken connections) with capped exponential
        backoff, then give up with TransientError (Pub/Sub redelivers). Other API errors are
        permanent. `call` is told whether an earlier attempt may have done the work."""
        import requests
        from google.api_core import exceptions as api

        retried = (
            api.ServiceUnavailable,
            api.GatewayTimeout,
            api.DeadlineExceeded,
            api.InternalServerError,
            api.TooManyRequests,
            requests.Timeout,
            requests.ConnectionError,
        )
        delay = self._first_delay
        ambiguous = False
        for attempt in range(1, self._attempts + 1):
            try:
                return call(ambiguous)
            except retried as exc:
                ambiguous = ambiguous or not isinstance(exc, api.TooManyRequests)
                if attempt == self._attempts:
                    raise TransientError(
                        f"vertex {what}: {_brief(exc)} (after {attempt} attempts)"
                    ) from exc
                self._sleep(delay)
                delay = min(delay * 2, self._max_delay)
        raise AssertionError("unreachable")

    def submit(self, request: RunRequest) -> bool:
        from google.api_core import exceptions as api
        from google.cloud import aiplatform_v1

        root = f"{self._pipeline_root}/{request.spec}"
        job = aiplatform_v1.PipelineJob(
            display_name=request.job_id,
            template_uri=self._template_uri.format(
                spec=request.spec, spec_version=request.spec_version, git_sha=request.git_sha
            ),
            labels=request.labels(),
            runtime_config=aiplatform_v1.PipelineJob.RuntimeConfig(
                gcs_output_directory=root, parameter_values=request.parameters()
            ),
            service_account=self._service_account,
        )
        client = self._client()

        def create(ambiguous: bool) -> bool:
            try:
                client.create_pipeline_job(
                    parent=self.parent,
                    pipeline_job=job,
                    pipeline_job_id=request.job_id,
                    timeout=self._timeout,
                )
            except api.Conflict:  # ALREADY_EXISTS: this job id was submitted before...
                # ...unless our own earlier attempt made it and its answer was lost.
                return ambiguous
            return True

        try:
            return self._call("create", create)
        except api.GoogleAPICallError as exc:
            raise BackendError(f"vertex create {request.job_id}: {_brief(exc)}") from exc

    def running(self, spec: str) -> list[str]:
        from google.api_core import exceptions as api

        states = " OR ".join(f'state="{s}"' for s in ACTIVE_STATES)
        query = f'labels.retrain-spec="{label_value(spec)}" AND ({states})'
        client = self._client()
        try:
            jobs = self._call(
                "list",
                lambda _: list(
                    client.list_pipeline_jobs(
                        request={"parent": self.parent, "filter": query}, timeout=self._timeout
                    )
                ),
            )
        except api.GoogleAPICallError as exc:
            raise BackendError(f"vertex list for {spec}: {_brief(exc)}") from exc
        return [str(job.name).rsplit("/", 1)[-1] for job in jobs]

    def describe(self, job_id: str) -> JobInfo | None:
        from google.api_core import exceptions as api

        client = self._client()
        name = f"{self.parent}/pipelineJobs/{job_id}"
        try:
            job = self._call(
                "get", lambda _: client.get_pipeline_job(name=name, timeout=self._timeout)
            )
        except api.NotFound:
            return None
        except api.GoogleAPICallError as exc:
            raise BackendError(f"vertex get {job_id}: {_brief(exc)}") from exc
        return JobInfo(
            job_id=job_id,
            state=job.state.name,
            labels=dict(job.labels),
            pipeline_root=job.runtime_config.gcs_output_directory,
            error=job.error.message,
        )


def _brief(exc: Exception) -> str:
    """An error in one line, without the request it came from (URLs may carry more than we
    want in a log line)."""
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or type(exc).__name__
    return f"{code} {message}" if code is not None else str(message)
