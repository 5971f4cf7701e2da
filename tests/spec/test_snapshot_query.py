"""Pinned data on BigQuery: the training query reads the watched table as of the run's
snapshot, filled in from a runtime parameter in exactly one shape, and refused past BigQuery's
time travel window."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from retrain.spec.sql import QueryProblem, at_snapshot, time_travel_query

TABLE = "acme-analytics.crm.customers"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def test_every_read_of_the_watched_table_is_as_of_the_snapshot() -> None:
    sql = (
        f"WITH recent AS (SELECT * FROM `{TABLE}` AS c WHERE tenure_months > 1) "
        f"SELECT r.country, r.churned FROM recent AS r UNION ALL SELECT country, churned "
        f"FROM `{TABLE}`"
    )
    query = time_travel_query(sql, TABLE)
    assert query.count("FOR SYSTEM_TIME AS OF '@@retrain_data_snapshot@@'") == 2
    run = at_snapshot(query, "2026-11-20T05:00:00Z", NOW)
    assert run.count("FOR SYSTEM_TIME AS OF TIMESTAMP '2026-11-20T05:00:00Z'") == 2
    assert "@@" not in run
    assert "CURRENT_TIMESTAMP()" in at_snapshot(query, "", NOW)  # no snapshot: as of now


@pytest.mark.parametrize(
    ("snapshot", "message"),
    [
        ("2026-11-13T11:59:59Z", "older than BigQuery's 7-day time travel window"),
        ("2026-11-22T00:00:00Z", "in the future"),
        ("2026-11-20 05:00:00", "is not YYYY-MM-DDTHH:MM:SSZ"),
        ("2026-11-20T05:00:00Z' OR TRUE --", "is not YYYY-MM-DDTHH:MM:SSZ"),
    ],
)
def test_a_snapshot_that_cannot_be_read_is_refused(snapshot: str, message: str) -> None:
    query = time_travel_query(f"SELECT a FROM `{TABLE}`", TABLE)
    with pytest.raises(QueryProblem, match=message):
        at_snapshot(query, snapshot, NOW)


def test_a_query_compiled_without_the_placeholder_is_refused() -> None:
    with pytest.raises(QueryProblem, match="recompile"):
        at_snapshot(f"SELECT a FROM `{TABLE}`", "2026-11-20T05:00:00Z", NOW)
