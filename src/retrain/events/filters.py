"""Cloud Logging sink filters: the one place they are written, so the deployment reuses them.

Each filter keeps the sink (and so Pub/Sub and the functions) away from entries the decoders
would only dismiss: most BigQuery audit traffic is reads.
"""

from __future__ import annotations

from retrain.events.drift import (
    MONITORED_RESOURCES,
    MONITORING_LOG_SUFFIX,
    MONITORING_TYPE_SUFFIX,
    STATS_ANOMALIES_TYPE_SUFFIX,
)
from retrain.events.pipeline_job import RESOURCE_TYPE
from retrain.events.types import TERMINAL_STATES


def data_arrival_filter(project: str) -> str:
    """BigQuery writes: v2 table data changes with inserted rows (Data Access log), and v2
    table metadata changes carrying the table's schema (Admin Activity log: tables.update or
    patch, DDL), which `retrain.events.table_change` compares with the specs. The legacy v1
    entries of the same calls are left out: `retrain.events.bigquery` reads v2 only.

    Parenthesised on purpose: in the Logging query language OR binds tighter than AND.
    """
    logs = f"projects/{project}/logs/cloudaudit.googleapis.com"
    return (
        'protoPayload.serviceName="bigquery.googleapis.com" '
        f'AND ((logName="{logs}%2Fdata_access" '
        "AND protoPayload.metadata.tableDataChange.insertedRowsCount:*) "
        f'OR (logName="{logs}%2Factivity" AND protoPayload.metadata.tableChange.table:*))'
    )


def drift_alert_filter(project: str) -> str:
    """Vertex Model Monitoring anomalies in every shape `retrain.events.drift` reads: entries in
    the documented anomaly log, entries typed `ModelMonitoringAnomaliesLogEntry` or
    `ModelMonitoringStatsAnomalies` whatever log they are in, untyped stats logged under a
    monitoring resource, and v2 alerts by the model monitor job they name (a run's TFDV
    anomalies are published to the topic by `on_run_complete`, no sink involved).

    Parenthesised on purpose: in the Logging query language OR binds tighter than AND.
    """
    resources = " OR ".join(f'"{r}"' for r in sorted(MONITORED_RESOURCES))
    return (
        f'logName:"projects/{project}/logs/" AND ('
        f'logName="projects/{project}/logs/aiplatform.googleapis.com%2F{MONITORING_LOG_SUFFIX}" '
        f'OR jsonPayload.@type:("{MONITORING_TYPE_SUFFIX}" OR "{STATS_ANOMALIES_TYPE_SUFFIX}") '
        f"OR (resource.type=({resources}) "
        "AND (jsonPayload.featureStats:* OR jsonPayload.featureAnomalies:*)) "
        'OR jsonPayload.anomaly.modelMonitoringJob:"/modelMonitors/")'
    )


def run_complete_filter(project: str) -> str:
    """Terminal state changes of PipelineJobs in this project."""
    states = " OR ".join(f'"{s}"' for s in TERMINAL_STATES)
    return (
        f'resource.type="{RESOURCE_TYPE}" AND resource.labels.resource_container="{project}" '
        f"AND jsonPayload.state=({states})"
    )
