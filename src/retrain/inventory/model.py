"""The facts the inventory reads, as recorded by the service, the pipeline, git and the code host.

Nothing here is computed from a guess: each value is copied from one source, and each model says
where from. A fact that could not be read is an empty value plus a `problems` line saying why.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from retrain.routing.decision import Decision
from retrain.summary import EvaluationSummary

PullState = Literal["open", "closed", "merged"]


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SpecCommit(_Fact):
    """One commit that changed a spec file, and the promotion version the file named after it."""

    sha: str
    committed_at: str
    author: str
    subject: str
    version: str | None = None


class Production(_Fact):
    """What git says serves: the spec's `promotion.version` and the commit that set it."""

    spec: str
    registry_model: str
    alias: str
    version: str | None = None
    commit: SpecCommit | None = None
    source: str = Field(description="Where the version was read: a git revision or a file.")


class Pull(_Fact):
    """A pull request as the code host reports it."""

    number: int
    title: str
    state: PullState
    head: str
    url: str = ""
    labels: list[str] = Field(default_factory=list)
    author: str = ""
    merged_by: str = ""
    merged_at: str = ""
    created_at: str = ""
    from_fork: bool = Field(
        default=False,
        description="Its head branch is in another repository: anyone can name a fork's branch "
        "`retrain/promote-<spec>`, so it is never the service's.",
    )

    @property
    def services_branch(self) -> bool:
        """Whether its head is a `retrain/...` branch of this repository (the service's)."""
        return not self.from_fork and self.head.startswith("retrain/")

    @property
    def kind(self) -> str:
        """promotion, schema, failure or other: from the head branch and the labels."""
        if self.services_branch and self.head.startswith("retrain/promote-"):
            return "promotion"
        for kind in ("schema", "failure"):
            if kind in self.labels or (
                self.services_branch and self.head.startswith(f"retrain/{kind}-")
            ):
                return kind
        return "other"


class Notice(_Fact):
    """An open failure notice: the spec's one issue saying what stopped retraining."""

    number: int
    spec: str
    title: str
    url: str = ""


class Decided(_Fact):
    """One logged decision (the service's own record), when it was logged and where it was read."""

    record: Decision
    time: str = ""
    source: str = ""


class Run(_Fact):
    """A pipeline job: its labels from the run backend, its summary from the blob store."""

    job_id: str
    spec: str
    state: str
    trigger: str = ""
    event_id: str = ""
    git_sha: str = ""
    pr_number: int | None = None
    spec_version: str = ""
    pipeline_root: str = ""
    error: str = ""
    summary: EvaluationSummary | None = None
    summary_problem: str = ""

    @property
    def finished_at(self) -> str:
        return self.summary.run.finished_at if self.summary else ""

    @property
    def verdict(self) -> str:
        """TFX's verdict, as recorded in the summary."""
        if self.summary is None:
            return ""
        return "blessed" if self.summary.blessed else "not blessed"
