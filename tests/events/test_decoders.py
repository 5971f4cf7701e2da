"""Decoders: typed events from the documented shapes, EventError for everything else."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrain.errors import EventError
from retrain.events import DataArrival, Dismissed, DriftAlert, RunStateChange, unwrap
from retrain.events.bigquery import (
    decode_data_arrival,
    table_data_change_entry,
    table_from_resource,
)
from retrain.events.drift import decode_drift
from retrain.events.envelope import pubsub_body
from retrain.events.fields import timestamp
from retrain.events.filters import data_arrival_filter, drift_alert_filter, run_complete_filter
from retrain.events.pipeline_job import decode_state_change, state_change_entry

GOLDEN = Path(__file__).parents[1] / "golden" / "events"


def entry(name: str) -> dict[str, Any]:
    return unwrap(json.loads((GOLDEN / name).read_text())).payload


def test_v2_load_job_keys_on_the_job_name() -> None:
    event = decode_data_arrival(entry("bigquery_v2_load.json"))
    assert isinstance(event, DataArrival)
    assert (event.table, event.rows, event.source) == (
        "acme-analytics.crm.customers",
        612,
        "bigquery-v2",
    )
    assert event.key == "projects/acme-analytics/jobs/bqjob_r1a2b3c4_load"
    assert event.time == datetime(2026, 3, 2, 10, 15, 30, 123456, tzinfo=timezone.utc)


def test_v2_write_api_strips_the_partition_and_keys_each_append_apart() -> None:
    first = decode_data_arrival(entry("bigquery_v2_write_api.json"))
    second = decode_data_arrival(entry("bigquery_v2_write_api_second.json"))
    assert isinstance(first, DataArrival) and isinstance(second, DataArrival)
    assert first.table == "acme-analytics.listings.sold_homes"
    # two appends to the one _default stream are two events, each keyed on its own entry
    assert (
        first.key
        == "projects/acme-analytics/datasets/listings/tables/sold_homes/streams/_default#3x9k"
    )
    assert second.key.endswith("/streams/_default#3x9m")
    redelivered = decode_data_arrival(entry("bigquery_v2_write_api.json"))
    assert isinstance(redelivered, DataArrival) and redelivered.key == first.key


def test_split_record_parts_share_one_key_and_empty_parts_are_dismissed() -> None:
    change = decode_data_arrival(entry("bigquery_v2_split_change.json"))
    assert isinstance(change, DataArrival)
    assert change.key == "projects/acme-analytics/datasets/crm/tables/customers#a1b2c3d4e5"
    part = decode_data_arrival(entry("bigquery_v2_split_part.json"))
    assert isinstance(part, Dismissed) and "part 2 of 3" in part.reason


@pytest.mark.parametrize(
    "name",
    [
        "bigquery_v1_load.json",
        "bigquery_v1_query.json",
        "bigquery_v1_failed.json",
        "bigquery_v1_temp_result.json",
    ],
)
def test_legacy_v1_entries_are_dismissed_v2_counts(name: str) -> None:
    # BigQuery logs every write in both formats; only v2 carries the row count
    event = decode_data_arrival(entry(name))
    assert isinstance(event, Dismissed) and "legacy v1" in event.reason


@pytest.mark.parametrize("name", ["bigquery_v2_truncate.json", "bigquery_v2_split_part.json"])
def test_writes_that_add_nothing_are_dismissed(name: str) -> None:
    assert isinstance(decode_data_arrival(entry(name)), Dismissed)


@pytest.mark.parametrize(
    ("resource", "table"),
    [
        ("projects/p/datasets/d/tables/t", "p.d.t"),
        ("projects/p/datasets/d/tables/t$20260101", "p.d.t"),
        ("projects/p/datasets/d/tables/t@1700000000", "p.d.t"),
        ("projects/p/datasets/d", None),
        ("projects/p/jobs/j", None),
        ("projects//datasets/d/tables/t", None),
    ],
)
def test_table_from_resource(resource: str, table: str | None) -> None:
    assert table_from_resource(resource) == table


def test_local_append_entry_decodes_to_what_it_says() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    event = decode_data_arrival(
        table_data_change_entry("acme-analytics.crm.customers", 7, "j1", when)
    )
    assert event == DataArrival(
        table="acme-analytics.crm.customers",
        rows=7,
        key="projects/acme-analytics/jobs/j1",
        time=when,
        source="bigquery-v2",
    )


def test_drift_from_model_monitoring_and_tfdv() -> None:
    monitoring = decode_drift(entry("monitoring_anomaly.json"))
    assert isinstance(monitoring, DriftAlert)
    # the documented entry names its monitoring job, no model
    assert monitoring.models == ("modelDeploymentMonitoringJobs/8812",)
    assert {(f.feature, f.value, f.threshold) for f in monitoring.features} == {
        ("monthly_charges", 0.42, 0.3),
        ("country", 0.35, 0.3),
    }
    assert monitoring.key == (
        "monitoring:modelDeploymentMonitoringJobs/8812:5521:RAW_FEATURE_DRIFT:2026-03-03T06:00:00Z"
    )
    v2 = decode_drift(entry("monitoring_v2_alert.json"))
    assert isinstance(v2, DriftAlert) and v2.models == ("modelMonitors/4417",)
    assert [(f.feature, f.kind, f.value, f.threshold) for f in v2.features] == [
        ("tenure_months", "raw-feature-drift", 0.31, 0.2)
    ]
    tfdv = decode_drift(entry("tfdv_anomalies.json"))
    assert isinstance(tfdv, DriftAlert)
    kinds = {(f.feature, f.kind) for f in tfdv.features}
    # JS divergence below its threshold is not drift
    assert kinds == {("loyalty_tier", "SCHEMA_NEW_COLUMN"), ("country", "L_INFTY")}
    assert isinstance(decode_drift(entry("tfdv_clean.json")), Dismissed)


def test_state_change_round_trip_and_non_terminal_states() -> None:
    when = datetime(2026, 1, 2, tzinfo=timezone.utc)
    built = state_change_entry(
        project="p1",
        location="europe-west4",
        job_id="churn-data-1",
        state="PIPELINE_STATE_FAILED",
        labels={"retrain-spec": "churn"},
        pipeline_root="/w/churn/pipeline_root",
        time=when,
        error="boom",
    )
    change = decode_state_change(json.loads(json.dumps(built)))
    assert isinstance(change, RunStateChange)
    assert (change.job_id, change.state, change.error) == (
        "churn-data-1",
        "PIPELINE_STATE_FAILED",
        "boom",
    )
    assert change.job_name == "projects/p1/locations/europe-west4/pipelineJobs/churn-data-1"
    assert change.pipeline_root == "/w/churn/pipeline_root" and change.time == when
    assert isinstance(decode_state_change(entry("pipeline_running.json")), Dismissed)


def test_timestamps_with_nanoseconds_and_offsets() -> None:
    assert timestamp({"t": "2026-03-02T10:15:30.123456789Z"}, "t").microsecond == 123456
    assert timestamp({"t": "2026-03-02T10:15:30+02:00"}, "t").hour == 10
    with pytest.raises(EventError):
        timestamp({"t": "yesterday"}, "t")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[1, 2]",
        "not json",
        42,
        {"message": "x"},
        {"message": {"data": ""}},
        {"message": {"data": "e30=", "attributes": ["a"]}},
    ],
)
def test_bad_envelopes_are_event_errors(data: Any) -> None:
    with pytest.raises(EventError):
        unwrap(data)


def test_envelope_round_trip_keeps_message_id_and_attributes() -> None:
    env = unwrap(pubsub_body({"a": 1}, "m-1", {"k": "v"}))
    assert (env.payload, env.message_id, env.attributes, env.event_id) == (
        {"a": 1},
        "m-1",
        {"k": "v"},
        "m-1",
    )
    assert unwrap({"insertId": "i-9"}).event_id == "i-9"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
log_like = st.fixed_dictionaries(
    {},
    optional={
        "protoPayload": st.fixed_dictionaries(
            {"serviceName": st.sampled_from(["bigquery.googleapis.com", "x"])},
            optional={
                "metadata": json_values,
                "serviceData": json_values,
                "methodName": json_values,
                "resourceName": json_values,
            },
        ),
        "resource": st.fixed_dictionaries(
            {"type": st.just("aiplatform.googleapis.com/PipelineJob")},
            optional={"labels": json_values},
        ),
        "jsonPayload": json_values,
        "anomalies": json_values,
        "timestamp": json_values,
        "split": json_values,
    },
)


@settings(deadline=None)  # examples: the profile's (tests/conftest.py)
@given(log_like)
def test_decoders_answer_or_raise_event_error_only(payload: dict[str, Any]) -> None:
    """Whatever arrives, a decoder returns an event or raises the one domain error."""
    for decode in (decode_data_arrival, decode_drift, decode_state_change):
        with contextlib.suppress(EventError):
            decode(payload)


def test_filters_name_what_the_decoders_accept() -> None:
    data = data_arrival_filter("acme-analytics")
    assert 'logName="projects/acme-analytics/logs/cloudaudit.googleapis.com%2Fdata_access"' in data
    assert "tableDataChange.insertedRowsCount:*" in data and "jobservice.jobcompleted" not in data
    drift = drift_alert_filter("p")
    assert 'logName="projects/p/logs/aiplatform.googleapis.com%2Fmodel_monitoring_anomaly"' in drift
    assert 'jsonPayload.anomaly.modelMonitoringJob:"/modelMonitors/"' in drift
    assert drift.startswith('logName:"projects/p/logs/" AND (')
    assert drift.count("(") == drift.count(")")
    complete = run_complete_filter("p")
    assert 'resource.type="aiplatform.googleapis.com/PipelineJob"' in complete
    assert "PIPELINE_STATE_CANCELLED" in complete and "PIPELINE_STATE_RUNNING" not in complete
