"""The RunBackend port. Adapters translate vendor errors into retrain.errors at the call."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from retrain.backends.pipeline_template import is_registry_url
from retrain.runs import RunRequest


class JobInfo(BaseModel):
    """The backend's own record of a job. Labels are whatever its creator wrote (hints); the
    other fields are what the backend itself reports about who ran it, from what, and where
    (PipelineJob REST fields: `serviceAccount`, `templateUri`, `runtimeConfig.
    gcsOutputDirectory`; the local backend has no identities and no registry: both empty)."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    state: str
    labels: dict[str, str]
    pipeline_root: str = ""  # PipelineJob.runtimeConfig.gcsOutputDirectory
    error: str = ""
    service_account: str = ""  # PipelineJob.serviceAccount: the identity the run ran as
    template_uri: str = ""  # PipelineJob.templateUri: set only for Template Registry templates


@dataclass(frozen=True)
class ProductionRuns:
    """What a production run of a spec looks like to the backend, as the service submits it:
    run as `service_account`, from a template `templates` names (a pattern with {spec},
    {spec_version}, {git_sha}; a Template Registry URL is sent as `templateUri`, anything else
    inline, so the job then has no templateUri), writing exactly under `root(spec)`.

    Only a job matching all three is production; any other job (a PR's candidate run, whatever
    its labels say) is not, and may never act on production (`retrain.completion.decide`)."""

    service_account: str
    root: Callable[[str], str]  # spec name -> its production pipeline root
    templates: str = ""

    def refusal(self, job: JobInfo, spec: str) -> str:
        """Why `job` is not a production run of `spec`; empty when it is."""
        if job.service_account != self.service_account:
            who = job.service_account[:120] or "the default identity"
            return f"it ran as {who!r}, not as the production pipelines identity"
        root = self.root(spec).rstrip("/")
        if job.pipeline_root.rstrip("/") != root:
            return f"its output {job.pipeline_root[:200]!r} is not production's root {root!r}"
        if is_registry_url(self.templates):
            if not _template_pattern(self.templates, spec).fullmatch(job.template_uri):
                return f"its template {job.template_uri[:200]!r} is not a production template"
        elif job.template_uri:
            return f"its template {job.template_uri[:200]!r} is not a production template"
        return ""


def _template_pattern(pattern: str, spec: str) -> re.Pattern[str]:
    """The production template URIs of `spec`: `pattern` with {spec} filled in and the
    commit fields standing for one path segment each."""
    parts = re.split(r"(\{spec\}|\{spec_version\}|\{git_sha\})", pattern)
    fields = {"{spec}": re.escape(spec), "{spec_version}": "[^/?#]+", "{git_sha}": "[^/?#]+"}
    return re.compile("".join(fields.get(part, re.escape(part)) for part in parts))


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
