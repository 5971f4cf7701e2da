"""A BigQuery audit log entry as Cloud Logging writes it, for the local stand-ins that publish
what BigQuery would log (`retrain data append`, the demo's column removal)."""

from __future__ import annotations

from typing import Any

V2_METADATA_TYPE = "type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata"


def audit_entry(
    table: str,
    method: str,
    metadata: dict[str, Any],
    insert_id: str,
    time: str,
    log: str,
    severity: str,
) -> dict[str, Any]:
    """A v2 entry (`protoPayload.metadata` a BigQueryAuditMetadata holding `metadata`) about
    `table` (P.D.T) in the audit log `log` (data_access or activity)."""
    project, dataset, table_id = table.split(".")
    return {
        "insertId": insert_id,
        "logName": f"projects/{project}/logs/cloudaudit.googleapis.com%2F{log}",
        "resource": {
            "type": "bigquery_dataset",
            "labels": {"project_id": project, "dataset_id": dataset},
        },
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "bigquery.googleapis.com",
            "methodName": method,
            "resourceName": f"projects/{project}/datasets/{dataset}/tables/{table_id}",
            "metadata": {"@type": V2_METADATA_TYPE, **metadata},
        },
        "severity": severity,
        "timestamp": time,
    }
