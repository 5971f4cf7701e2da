"""BigQuery table schema changes -> TableSchemaChange.

BigQuery's v2 audit format (`BigQueryAuditMetadata`, Admin Activity log
`cloudaudit.googleapis.com/activity`) logs a change of a table's metadata as
`protoPayload.metadata.tableChange`, documented in the BigQuery audit log reference
(bigquery/docs/reference/auditlogs/rest/Shared.Types/BigQueryAuditMetadata, TableChange and
Table):
- `table`: the table after the change: `tableName` (projects/P/datasets/D/tables/T),
  `schemaJson` (the table schema as a JSON string, `{"fields": [{"name", "type", "mode"}]}`,
  left out when larger than 40K, which `schemaJsonTruncated` then says), times, ...;
- `reason`: TABLE_UPDATE_REQUEST (tables.update / tables.patch, whose methodName is
  `google.cloud.bigquery.v2.TableService.UpdateTable` / `PatchTable`), QUERY (DDL such as
  `ALTER TABLE ... DROP COLUMN`, methodName `...JobService.InsertJob`) or JOB (a job's
  destination table, e.g. a load with schema update options);
- `jobName` when a job made the change; `truncated` when the table's data was truncated.

The legacy v1 format (`AuditData`, methodName `tableservice.update`/`tableservice.patch`) logs
the same call once more; like writes, schema changes are read from the v2 entry only, and the
v1 entry is dismissed (`retrain.events.bigquery`).
"""

from __future__ import annotations

import json
from typing import Any

from retrain.errors import EventError
from retrain.events.audit import audit_entry
from retrain.events.fields import text, timestamp
from retrain.events.types import Dismissed, TableColumn, TableSchemaChange

MAX_COLUMNS = 10_000  # BigQuery allows 10,000 columns per table


def decode_table_change(
    entry: dict[str, Any], payload: dict[str, Any], table: str
) -> TableSchemaChange | Dismissed:
    change = payload["metadata"]["tableChange"]
    if not isinstance(change, dict):
        raise EventError("tableChange is not an object")
    described = change.get("table")
    if not isinstance(described, dict):
        raise EventError("tableChange.table is not an object")
    named = text(described, "tableName")
    if named and named.split("$", 1)[0] != text(payload, "resourceName").split("$", 1)[0]:
        raise EventError(f"tableChange.table.tableName {named[:200]!r} is not the resourceName")
    if described.get("schemaJsonTruncated") is True:
        return Dismissed(reason=f"schema of {table} changed, but the entry left it out (over 40K)")
    raw = described.get("schemaJson")
    if raw is None:
        return Dismissed(reason=f"metadata of {table} changed, not its schema (no schemaJson)")
    columns = _columns(raw)
    how = text(change, "reason") or "REASON_UNSPECIFIED"
    key = text(change, "jobName") or f"{table}#{text(entry, 'insertId', required=True)}"
    return TableSchemaChange(
        table=table, columns=columns, key=key, time=timestamp(entry, "timestamp"), how=how
    )


def _columns(raw: Any) -> tuple[TableColumn, ...]:
    if not isinstance(raw, str):
        raise EventError("tableChange.table.schemaJson is not a string")
    try:
        schema = json.loads(raw)
    except ValueError as exc:
        raise EventError(f"tableChange.table.schemaJson is not JSON: {exc}") from exc
    fields = schema.get("fields", []) if isinstance(schema, dict) else None
    if not isinstance(fields, list):
        raise EventError("tableChange.table.schemaJson: fields is not a list")
    if len(fields) > MAX_COLUMNS:
        raise EventError(f"tableChange.table.schemaJson: {len(fields)} fields, over {MAX_COLUMNS}")
    columns = []
    for at, field in enumerate(fields):
        name, kind = text(field, "name"), text(field, "type")
        if not name or not kind:
            raise EventError(f"tableChange.table.schemaJson: fields[{at}] lacks a name or type")
        columns.append(
            TableColumn(
                name=name[:300], type=kind.upper()[:40], mode=text(field, "mode") or "NULLABLE"
            )
        )
    return tuple(columns)


def table_change_entry(
    table: str, columns: list[tuple[str, str]], insert_id: str, time: str
) -> dict[str, Any]:
    """The v2 Admin Activity entry BigQuery logs when tables.patch changes `table`'s schema
    (`columns`: (name, type) after the change): what the local demo publishes when it drops a
    column from a local table."""
    project, dataset, table_id = table.split(".")
    resource = f"projects/{project}/datasets/{dataset}/tables/{table_id}"
    fields = [{"name": n, "type": t, "mode": "NULLABLE"} for n, t in columns]
    change = {
        "tableChange": {
            "table": {
                "tableName": resource,
                "schemaJson": json.dumps({"fields": fields}),
                "updateTime": time,
            },
            "reason": "TABLE_UPDATE_REQUEST",
        }
    }
    method = "google.cloud.bigquery.v2.TableService.PatchTable"
    return audit_entry(table, method, change, insert_id, time, "activity", "NOTICE")
