"""BigQuery audit log entries -> DataArrival.

BigQuery logs each write twice: as v2 `BigQueryAuditMetadata`
(`protoPayload.metadata.tableDataChange`: insertedRowsCount, reason, jobName or streamName, with
`resourceName` projects/P/datasets/D/tables/T) and as legacy v1 `AuditData` (methodName
`jobservice.jobcompleted`). Only v2 counts: it carries the row count (`min_new_rows` needs it)
and covers the Storage Write API and DML, which v1 does not; a v1 entry that reaches us anyway
is dismissed, so the two never race for the same job's key.

Keys: a job's name for job writes; for Storage Write API appends (and anything else without a
job) the log entry's own `insertId` under its stream, since one stream (`_default` above all)
carries many appends. Large audit records are split over several entries
(`split.uid/index/totalSplits`); only the part carrying the change matters, and the split uid
keeps parts of one record under one key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from retrain.errors import EventError
from retrain.events.audit import V2_METADATA_TYPE, audit_entry
from retrain.events.fields import count, text, timestamp
from retrain.events.table_change import decode_table_change
from retrain.events.types import DataArrival, Dismissed, TableSchemaChange

V1_METHOD = "jobservice.jobcompleted"


def table_from_resource(resource: str) -> str | None:
    """projects/P/datasets/D/tables/T[$partition|@snapshot] -> P.D.T (None if not a table)."""
    parts = resource.split("/")
    if len(parts) != 6 or parts[0] != "projects" or parts[2] != "datasets" or parts[4] != "tables":
        return None
    table = parts[5].split("$", 1)[0].split("@", 1)[0]
    if not (parts[1] and parts[3] and table):
        return None
    return f"{parts[1]}.{parts[3]}.{table}"


def decode_data_arrival(entry: dict[str, Any]) -> DataArrival | TableSchemaChange | Dismissed:
    """Decode one log entry; EventError when it is not a BigQuery audit entry at all. A v2
    `tableChange` (a watched table's schema changed) is decoded by `retrain.events.table_change`."""
    payload = entry.get("protoPayload")
    if not isinstance(payload, dict):
        raise EventError("not an audit log entry: no protoPayload")
    if text(payload, "serviceName") != "bigquery.googleapis.com":
        raise EventError(f"not a BigQuery audit entry (service {text(payload, 'serviceName')!r})")
    if text(payload, "methodName") == V1_METHOD or "serviceData" in payload:
        return Dismissed(
            reason="legacy v1 audit entry: writes and schema changes are read from their v2 "
            "entry (tableDataChange, tableChange)"
        )
    if isinstance(payload.get("metadata"), dict):
        return _decode_v2(entry, payload)
    raise EventError("BigQuery audit entry in an unknown format (neither metadata nor serviceData)")


def _split_note(entry: dict[str, Any]) -> str:
    split = entry.get("split")
    if not isinstance(split, dict):
        return ""
    return f" (part {count(split, 'index') or 0} of {count(split, 'totalSplits') or '?'})"


def _decode_v2(
    entry: dict[str, Any], payload: dict[str, Any]
) -> DataArrival | TableSchemaChange | Dismissed:
    metadata = payload["metadata"]
    meta_type = text(metadata, "@type")
    if meta_type and meta_type != V2_METADATA_TYPE:
        raise EventError(f"unknown BigQuery audit metadata type {meta_type!r}")
    change = metadata.get("tableDataChange")
    if change is None and "tableChange" in metadata:
        return _decode_table_change(entry, payload)
    if change is None:
        kinds = ", ".join(sorted(k for k in metadata if k != "@type")) or "nothing"
        return Dismissed(reason=f"no tableDataChange (carries {kinds}){_split_note(entry)}")
    if not isinstance(change, dict):
        raise EventError("tableDataChange is not an object")
    failed = _failed(payload)
    if failed:
        return Dismissed(reason=f"job failed: {failed}")
    resource, table = _table_of(entry, payload)
    inserted = count(change, "insertedRowsCount") or 0
    if inserted == 0:
        return Dismissed(reason=f"no rows inserted into {table}")
    key = text(change, "jobName") or (
        f"{text(change, 'streamName') or resource}#"
        f"{text(entry, 'split', 'uid') or text(entry, 'insertId', required=True)}"
    )
    return DataArrival(
        table=table,
        rows=inserted,
        key=key,
        time=timestamp(entry, "timestamp"),
        source="bigquery-v2",
    )


def _decode_table_change(
    entry: dict[str, Any], payload: dict[str, Any]
) -> TableSchemaChange | Dismissed:
    failed = _failed(payload)
    if failed:
        return Dismissed(reason=f"table change failed: {failed}")
    return decode_table_change(entry, payload, _table_of(entry, payload)[1])


def _table_of(entry: dict[str, Any], payload: dict[str, Any]) -> tuple[str, str]:
    """(resourceName, P.D.T) of the table the entry is about, checked against its dataset."""
    resource = text(payload, "resourceName", required=True)
    table = table_from_resource(resource)
    if table is None:
        raise EventError(f"resourceName {resource!r} is not a table")
    _same_dataset(entry, resource, table)
    return resource, table


def _failed(payload: dict[str, Any]) -> str:
    """The error of a failed call (AuditLog `status`, a google.rpc.Status; code 0 is OK)."""
    status = payload.get("status")
    if status is None or status == {}:
        return ""
    if not isinstance(status, dict):
        raise EventError("protoPayload.status is not an object")
    code = count(status, "code") or 0
    return f"{text(status, 'message') or 'no message'} (code {code})" if code else ""


def _same_dataset(entry: dict[str, Any], resource: str, table: str) -> None:
    """The entry's monitored resource (bigquery_dataset) must be the table's dataset: a
    resourceName naming another table than the one the entry is about is refused."""
    _, project, _, dataset, *_ = resource.split("/")
    for label, expected in (("project_id", project), ("dataset_id", dataset)):
        found = text(entry, "resource", "labels", label)
        if found and found != expected:
            raise EventError(
                f"resourceName names {table}, but the entry is about {label} {found[:80]!r}"
            )


def table_data_change_entry(table: str, rows: int, job_id: str, time: datetime) -> dict[str, Any]:
    """The v2 audit entry BigQuery logs when a load job appends `rows` to `table` (P.D.T):
    what `retrain data append` publishes locally."""
    project = table.split(".")[0]
    change = {
        "tableDataChange": {
            "insertedRowsCount": str(rows),
            "reason": "JOB",
            "jobName": f"projects/{project}/jobs/{job_id}",
        }
    }
    method = "google.cloud.bigquery.v2.JobService.InsertJob"
    when = time.isoformat().replace("+00:00", "Z")
    return audit_entry(table, method, change, f"{job_id}-tdc", when, "data_access", "INFO")
