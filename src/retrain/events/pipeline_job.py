"""PipelineJob state-change log entries <-> RunStateChange.

The shape (resource type aiplatform.googleapis.com/PipelineJob, `resource.labels.pipeline_job_id`,
`jsonPayload.state`, optional `jsonPayload.labels`, `runtimeConfig.gcsOutputDirectory`, `error`)
is what the log sink forwards from Vertex; `state_change_entry` builds the same entry, so the
local backend publishes exactly what the cloud would and one decoder serves both.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from retrain.errors import EventError
from retrain.events.fields import mapping, text, timestamp
from retrain.events.types import TERMINAL_STATES, Dismissed, RunStateChange

RESOURCE_TYPE = "aiplatform.googleapis.com/PipelineJob"
LOG_ID = "aiplatform.googleapis.com%2Fpipeline_job_events"


def decode_state_change(entry: dict[str, Any]) -> RunStateChange | Dismissed:
    resource_type = text(entry, "resource", "type")
    if resource_type != RESOURCE_TYPE:
        raise EventError(f"not a PipelineJob log entry (resource.type {resource_type!r})")
    body = entry.get("jsonPayload")
    if not isinstance(body, dict):
        raise EventError("PipelineJob entry has no jsonPayload")
    job_id = text(entry, "resource", "labels", "pipeline_job_id", required=True)
    state = text(body, "state", required=True)
    if not state.startswith("PIPELINE_STATE_"):
        raise EventError(f"unknown pipeline state {state!r}")
    project = text(entry, "resource", "labels", "resource_container") or "-"
    location = text(entry, "resource", "labels", "location") or "-"
    name = (
        text(body, "pipelineJobName")
        or f"projects/{project}/locations/{location}/pipelineJobs/{job_id}"
    )
    change = RunStateChange(
        job_id=job_id,
        job_name=name,
        state=state,
        labels=mapping(body, "labels"),
        pipeline_root=text(body, "runtimeConfig", "gcsOutputDirectory"),
        error=text(body, "error", "message"),
        failed_task=text(body, "failedTask"),
        time=timestamp(entry, "timestamp"),
    )
    if not change.terminal:
        return Dismissed(reason=f"pipeline job {job_id} is {state}, not finished")
    return change


def state_change_entry(
    *,
    project: str,
    location: str,
    job_id: str,
    state: str,
    labels: dict[str, str],
    pipeline_root: str,
    time: datetime,
    error: str = "",
    failed_task: str = "",
) -> dict[str, Any]:
    """The log entry the Vertex sink forwards when a PipelineJob changes state."""
    if state not in TERMINAL_STATES and not state.startswith("PIPELINE_STATE_"):
        raise ValueError(f"not a pipeline state: {state}")
    body: dict[str, Any] = {
        "pipelineJobName": f"projects/{project}/locations/{location}/pipelineJobs/{job_id}",
        "state": state,
        "labels": labels,
        "runtimeConfig": {"gcsOutputDirectory": pipeline_root},
    }
    if error:
        body["error"] = {"code": 2, "message": error}
    if failed_task:
        body["failedTask"] = failed_task
    return {
        "insertId": uuid.uuid4().hex[:16],
        "logName": f"projects/{project}/logs/{LOG_ID}",
        "resource": {
            "type": RESOURCE_TYPE,
            "labels": {
                "pipeline_job_id": job_id,
                "location": location,
                "resource_container": project,
            },
        },
        "jsonPayload": body,
        "severity": "ERROR" if state == "PIPELINE_STATE_FAILED" else "INFO",
        "timestamp": time.isoformat().replace("+00:00", "Z"),
    }
