"""What a pipeline run is asked to do, and how it ended: the values routing, backends and the
completion handler pass between them. Pure data; no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from retrain.spec.model import Spec

Trigger = Literal["pull_request", "data_arrival", "drift", "schedule", "manual"]
RunState = Literal["succeeded", "failed", "cancelled"]

# Names of the compiled pipeline's runtime parameters; events set them per run.
RUNTIME_PARAMETERS = (
    "run_id",
    "trigger",
    "git_sha",
    "pr_number",
    "event_id",
    "data_window",
    "data_snapshot",
    "baseline_uri",
    "baseline_version",
    "baseline_reason",
    "spec_changes",
)
# The `baseline_uri` of a run without a baseline. Never empty: the Importer that reads it on
# Vertex takes a URI, and the pipeline's Evaluator recognises this one and evaluates alone.
NO_BASELINE_URI = "retrain:no-baseline"
# A data snapshot time: it enters SQL on BigQuery, so only this exact shape is accepted.
SNAPSHOT_PATTERN = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?$"
NO_PROMOTION = "no model has been promoted yet (promotion.version is unset)"
# `retrain run --local` exits with this when the run finished but its candidate is not blessed;
# the local backend counts it as a run that succeeded (the comparison says the rest).
NOT_BLESSED_EXIT = 3
_LABEL_UNSAFE = re.compile(r"[^a-z0-9_-]")


def snapshot_time(moment: datetime) -> str:
    """A data snapshot time: RFC 3339 UTC to the second, the shape SNAPSHOT_PATTERN accepts."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def data_window(window: str | None, snapshot: str) -> str:
    """The `data_window` run value: the rows a run reads by the spec's `data.window`, as
    `start/end` (RFC 3339; the end is the snapshot, included, the start excluded); `<window>
    before the run's start` when the snapshot is left to the run; empty without a window (every
    row of the snapshot)."""
    if not window:
        return ""
    if not snapshot:
        return f"{window} before the run's start"
    from retrain.spec.model import duration_of

    end = datetime.strptime(snapshot, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return f"{snapshot_time(end - duration_of(window))}/{snapshot}"


def label_value(value: str) -> str:
    """A Google Cloud label value: lowercase, [a-z0-9_-], at most 63 characters."""
    return _LABEL_UNSAFE.sub("-", value.lower())[:63]


class Baseline(BaseModel):
    """Production's model, which a run is judged against: the promoted run's job id (the spec's
    `promotion.version` on the default branch) and its trained model, or why there is none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(default="", max_length=128)
    uri: str = Field(default="", max_length=1024)
    reason: str = Field(default=NO_PROMOTION, max_length=1024)

    @classmethod
    def missing(cls, reason: str, version: str = "") -> Baseline:
        return cls(version=version[:128], reason=reason[:1024])

    @classmethod
    def found(cls, version: str, uri: str) -> Baseline:
        return cls(version=version, uri=uri, reason="")


class RunRequest(BaseModel):
    """A pipeline run to start. `job_id` is deterministic, so submitting twice is harmless."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,127}$")
    spec: str
    spec_version: str
    trigger: Trigger
    git_sha: str = ""
    pr_number: int | None = None
    event_id: str = ""
    data_window: str = Field(
        default="", description="The rows data.window selects (`retrain.runs.data_window`)."
    )
    data_snapshot: str = Field(
        default="",
        pattern=SNAPSHOT_PATTERN,
        description="RFC 3339 UTC time (whole seconds) the run reads its data as of.",
    )
    baseline: Baseline = Field(default_factory=Baseline)
    spec_changes: str = Field(
        default="",
        max_length=20_000,
        description="Pull request runs: the spec fields the PR changed against its base branch, "
        "a JSON list of retrain.summary.SpecChange; empty for other runs.",
    )

    @classmethod
    def for_spec(
        cls,
        spec: Spec,
        *,
        job_id: str,
        version: str,
        trigger: Trigger,
        git_sha: str,
        snapshot: str,
        baseline: Baseline,
        event_id: str = "",
        pr_number: int | None = None,
        spec_changes: str = "",
    ) -> RunRequest:
        """The one way a run is asked for: the rows it reads follow from the spec's data.window
        ending at `snapshot` (RFC 3339 UTC; empty: as of when the run starts)."""
        return cls(
            job_id=job_id,
            spec=spec.name,
            spec_version=version,
            trigger=trigger,
            git_sha=git_sha,
            pr_number=pr_number,
            event_id=event_id,
            data_window=data_window(spec.data.window, snapshot),
            data_snapshot=snapshot,
            baseline=baseline,
            spec_changes=spec_changes,
        )

    def parameters(self) -> dict[str, str]:
        """Runtime parameter values, all strings (empty when not applicable). Every one is
        sent: a schema 2.0.0 template declares no defaults (TFX's RuntimeConfigBuilder writes
        only the values it is given), so a parameter left out reaches its task with no value;
        `pipeline_template.runtime_config` leaves out only an empty one a template compiled
        before it existed does not declare."""
        changes = {"spec_changes": self.spec_changes}
        return {
            "run_id": self.job_id,
            "trigger": self.trigger,
            "git_sha": self.git_sha,
            "pr_number": "" if self.pr_number is None else str(self.pr_number),
            "event_id": self.event_id,
            "data_window": self.data_window,
            "data_snapshot": self.data_snapshot,
            "baseline_uri": self.baseline.uri or NO_BASELINE_URI,
            "baseline_version": self.baseline.version,
            "baseline_reason": self.baseline.reason,
            **changes,
        }

    def labels(self) -> dict[str, str]:
        """PipelineJob labels: what the completion handler needs to find its way back."""
        labels = {
            "retrain-spec": label_value(self.spec),
            "retrain-spec-version": label_value(self.spec_version),
            "retrain-trigger": label_value(self.trigger),
        }
        if self.git_sha:
            labels["retrain-git-sha"] = label_value(self.git_sha[:40])
        if self.pr_number is not None:
            labels["retrain-pr"] = str(self.pr_number)
        if self.event_id:
            labels["retrain-event"] = label_value(self.event_id)
        if self.baseline.version:
            labels["retrain-baseline"] = label_value(self.baseline.version)
        if self.data_snapshot:
            labels["retrain-snapshot"] = label_value(self.data_snapshot)
        return labels


class RunOutcome(BaseModel):
    """A finished run, as the completion event reports it (Vertex or local)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    spec: str
    state: RunState
    trigger: Trigger = "manual"
    git_sha: str = ""
    pr_number: int | None = None
    event_id: str = ""
    pipeline_root: str = Field(description="Where the run wrote; its summary is beneath it.")
    failed_task: str = ""
    error: str = ""
    console_url: str = ""
    production: bool = Field(
        default=False,
        description="Proven by the backend (`retrain.backends.base.ProductionRuns`): it ran as "
        "production's identity, from a production template, under the spec's production root. "
        "Only such runs act on production (`retrain.completion.decide`); labels never make one.",
    )


class LocalLayout(BaseModel):
    """Where a local run of one spec keeps its files under a work directory."""

    model_config = ConfigDict(frozen=True)

    workdir: Path
    spec: str

    @property
    def root(self) -> Path:
        return self.workdir / self.spec

    @property
    def pipeline_root(self) -> Path:
        return self.root / "pipeline_root"

    @property
    def metadata_path(self) -> Path:
        return self.root / "metadata.sqlite"

    @property
    def serving_dir(self) -> Path:
        return self.root / "serving"
