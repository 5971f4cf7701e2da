"""The typed events decoders produce. Frozen pydantic values; no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Dismissed(_Event):
    """A well-formed entry the service has no business with (other table, running state...)."""

    reason: str


class DataArrival(_Event):
    """Rows were written to a BigQuery table."""

    table: str  # project.dataset.table, as specs write it
    rows: int | None  # None when the log format does not say (v1 load jobs)
    key: str  # what makes this write unique: the job name, stream or log record
    time: datetime
    source: Literal["bigquery-v2", "bigquery-v1"]


class TableColumn(_Event):
    name: str
    type: str  # BigQuery's type name as the schema JSON spells it (INTEGER or INT64, ...)
    mode: str = "NULLABLE"


class TableSchemaChange(_Event):
    """A watched table's metadata changed (tables.update/patch, or DDL such as ALTER TABLE);
    `columns` is its top-level schema after the change."""

    table: str
    columns: tuple[TableColumn, ...]
    key: str
    time: datetime
    how: str  # the change's reason: TABLE_UPDATE_REQUEST, QUERY (DDL), JOB


class FeatureDrift(_Event):
    feature: str
    kind: str  # SCHEMA_NEW_COLUMN, L_INFTY, JENSEN_SHANNON_DIVERGENCE, RAW_FEATURE_DRIFT...
    value: float | None = None
    threshold: float | None = None


class DriftAlert(_Event):
    """Drift or skew was detected for a model; `models` are names that may identify its spec."""

    models: tuple[str, ...]
    key: str
    time: datetime
    source: Literal["model-monitoring", "tfdv"]
    features: tuple[FeatureDrift, ...]


class RunStateChange(_Event):
    """A PipelineJob reached a terminal state (or any state: `terminal` says which)."""

    job_id: str
    job_name: str  # projects/P/locations/L/pipelineJobs/ID
    state: str  # PIPELINE_STATE_*
    labels: dict[str, str]
    pipeline_root: str = ""
    error: str = ""
    failed_task: str = ""
    time: datetime

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


class ScheduleTick(_Event):
    """Cloud Scheduler fired a spec's cron; `key` is the same for every copy of one tick."""

    spec: str
    git_sha: str  # the commit the Scheduler job was synced from (runs use the deployed one)
    key: str  # minute:<publish time to the minute>, else message:<id>


class FlushTick(_Event):
    """The periodic wake-up: start the runs that are due without waiting for an event. It
    carries no time: what is due is judged by the clock of the instance handling it."""


TERMINAL_STATES = {
    "PIPELINE_STATE_SUCCEEDED": "succeeded",
    "PIPELINE_STATE_FAILED": "failed",
    "PIPELINE_STATE_CANCELLED": "cancelled",
}
