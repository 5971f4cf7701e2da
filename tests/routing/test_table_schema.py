"""BigQuery table schema changes: decoded from the documented v2 entry, decided at once."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from retrain.errors import EventError
from retrain.events.bigquery import decode_data_arrival
from retrain.events.envelope import unwrap
from retrain.events.table_change import table_change_entry
from retrain.events.types import Dismissed, TableColumn, TableSchemaChange
from retrain.routing.table_schema import read_columns, schema_verdict
from retrain.spec import load_spec
from tests.fakes.notices import RecordingNotices
from tests.routing.helpers import SPECS, make_service

GOLDEN = Path(__file__).parents[1] / "golden" / "events"
HOUSES = [
    ("floor_area_sqm", "FLOAT"),
    ("bedrooms", "INTEGER"),
    ("age_years", "INTEGER"),
    ("distance_to_center_km", "FLOAT"),
    ("city", "STRING"),
    ("price_keur", "FLOAT"),
]
TIME = "2026-03-03T09:00:00Z"


def change(
    columns: list[tuple[str, str]], table: str = "acme-analytics.listings.sold_homes"
) -> TableSchemaChange:
    return TableSchemaChange(
        table=table,
        columns=tuple(TableColumn(name=n, type=t) for n, t in columns),
        key="k",
        time=datetime(2026, 3, 3, tzinfo=timezone.utc),
        how="TABLE_UPDATE_REQUEST",
    )


def test_the_golden_drop_column_entry_decodes_to_the_tables_new_columns() -> None:
    entry = unwrap((GOLDEN / "bigquery_v2_table_drop_column.json").read_bytes()).payload
    decoded = decode_data_arrival(entry)
    assert isinstance(decoded, TableSchemaChange)
    assert decoded.table == "acme-analytics.crm.customers"
    assert decoded.how == "QUERY" and decoded.key == "projects/acme-analytics/jobs/bqjob_r9ddl_drop"
    assert "support_calls" not in {c.name for c in decoded.columns}


def test_removed_retyped_repeated_columns_alert_unused_ones_are_a_notice() -> None:
    spec = load_spec(SPECS / "house-prices.yaml")
    assert schema_verdict(spec, change(HOUSES)).level == "none"
    dropped = schema_verdict(
        spec, change([c for c in HOUSES if c[0] != "city"] + [("town", "STRING")])
    )
    assert (dropped.level, dropped.gone, dropped.unused) == ("alert", ("city",), ("town",))
    assert "gone (removed or renamed): city; columns it does not read: town" in dropped.reason
    retyped = schema_verdict(
        spec, change([(n, "STRING" if n == "price_keur" else t) for n, t in HOUSES])
    )
    assert retyped.level == "alert"
    assert retyped.retyped == (
        "price_keur is now STRING, which the label of house-prices cannot read",
    )
    standard = [(n, {"FLOAT": "FLOAT64", "INTEGER": "INT64"}.get(t, t)) for n, t in HOUSES]
    assert schema_verdict(spec, change(standard)).level == "none"  # standard SQL names too
    added = schema_verdict(spec, change([*HOUSES, ("energy_label", "STRING")]))
    assert (added.level, added.unused) == ("notice", ("energy_label",))


def test_a_custom_query_is_judged_by_the_columns_it_names() -> None:
    spec = load_spec(SPECS / "churn.yaml")  # SELECT tenure_months, ..., churned FROM ...
    assert read_columns(spec) == sorted([*spec.feature_names, spec.label])
    columns = [(c, "STRING") for c in read_columns(spec)]  # types not judged: the query may cast
    assert schema_verdict(spec, change(columns, "acme-analytics.crm.customers")).level == "none"


def test_alert_posts_the_specs_notice_and_starts_nothing() -> None:
    notices = RecordingNotices()
    service, backend, _log, _ = make_service(notices=notices)
    body = (GOLDEN / "bigquery_v2_table_retyped.json").read_bytes()
    (decision,) = service.handle("data_arrival", body, "e1")
    assert (decision.decision, decision.spec, decision.alert) == ("ignored", "house-prices", True)
    (problem,) = notices.problems
    assert problem.kind == "schema_drift" and "bedrooms is now STRING" in problem.summary
    assert not backend.jobs
    notice_only = (GOLDEN / "bigquery_v2_table_patch_new_column.json").read_bytes()
    (decision,) = service.handle("data_arrival", notice_only, "e2")
    assert (decision.alert, len(notices.problems)) == (False, 1)


def _entry(**table: Any) -> dict[str, Any]:
    entry = table_change_entry("acme-analytics.listings.sold_homes", HOUSES, "i1", TIME)
    entry["protoPayload"]["metadata"]["tableChange"]["table"].update(table)
    return entry


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"schemaJson": "{not json"}, "schemaJson is not JSON"),
        ({"schemaJson": json.dumps({"fields": {"a": 1}})}, "fields is not a list"),
        ({"schemaJson": json.dumps({"fields": [{"name": "a"}]})}, "fields[0] lacks a name or type"),
        ({"schemaJson": 7}, "schemaJson is not a string"),
        ({"tableName": "projects/acme-analytics/datasets/x/tables/y"}, "is not the resourceName"),
    ],
)
def test_malformed_table_changes_are_refused_naming_the_field(
    table: dict[str, Any], message: str
) -> None:
    with pytest.raises(EventError, match=message.replace("[", r"\[").replace("]", r"\]")):
        decode_data_arrival(_entry(**table))


def test_a_truncated_or_schemaless_change_is_dismissed_with_a_reason() -> None:
    truncated = _entry(schemaJsonTruncated=True)
    assert isinstance(decode_data_arrival(truncated), Dismissed)
    entry = _entry()
    del entry["protoPayload"]["metadata"]["tableChange"]["table"]["schemaJson"]
    decoded = decode_data_arrival(entry)
    assert isinstance(decoded, Dismissed) and "not its schema" in decoded.reason
