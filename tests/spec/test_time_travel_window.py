"""A run's data snapshot is bounded by the time travel window its table's dataset sets
(`maxTimeTravelHours`, 48-168 h; BigQuery's Dataset REST reference), not always by 7 days."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from google.cloud import bigquery

from retrain.errors import BackendError
from retrain.google.bigquery import DatasetTimeTravel
from retrain.spec.sql import (
    QueryProblem,
    at_snapshot,
    snapshot_datasets,
    time_travel_query,
    time_travel_window,
)

TABLE = "acme-analytics.crm.customers"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
QUERY = time_travel_query(f"SELECT a FROM `{TABLE}`", TABLE)


class DatasetsApi:
    """datasets.get as google-cloud-bigquery's Client returns it: the REST resource parsed by
    the SDK's own `Dataset.from_api_repr` (maxTimeTravelHours is an int64, so a string)."""

    def __init__(self, resources: dict[str, dict[str, Any]]) -> None:
        self.resources = resources
        self.asked: list[str] = []

    def get_dataset(self, name: str) -> bigquery.Dataset:
        self.asked.append(name)
        project, dataset = name.split(".")
        body = {"datasetReference": {"projectId": project, "datasetId": dataset}}
        return bigquery.Dataset.from_api_repr({**body, **self.resources.get(name, {})})


def test_the_datasets_read_as_of_the_snapshot() -> None:
    assert snapshot_datasets(QUERY) == ["acme-analytics.crm"]


def test_a_two_day_window_refuses_a_three_day_old_snapshot() -> None:
    api = DatasetsApi({"acme-analytics.crm": {"maxTimeTravelHours": "48"}})
    window = time_travel_window(QUERY, DatasetTimeTravel(api))
    assert window == timedelta(hours=48) and api.asked == ["acme-analytics.crm"]
    three_days = "2026-11-18T11:00:00Z"
    assert "TIMESTAMP '2026-11-18T11:00:00Z'" in at_snapshot(QUERY, three_days, NOW)  # 7 days
    with pytest.raises(QueryProblem, match="older than BigQuery's 2-day time travel window"):
        at_snapshot(QUERY, three_days, NOW, window)
    assert "TIMESTAMP" in at_snapshot(QUERY, "2026-11-20T11:00:00Z", NOW, window)


def test_an_unset_window_is_seven_days() -> None:
    window = time_travel_window(QUERY, DatasetTimeTravel(DatasetsApi({})))
    assert window == timedelta(days=7)


@pytest.mark.parametrize("hours", ["30", "200", "50"])
def test_a_window_bigquery_does_not_allow_names_the_dataset(hours: str) -> None:
    api = DatasetsApi({"acme-analytics.crm": {"maxTimeTravelHours": hours}})
    with pytest.raises(
        QueryProblem, match=rf"dataset acme-analytics\.crm: maxTimeTravelHours {hours}"
    ):
        time_travel_window(QUERY, DatasetTimeTravel(api))


def test_a_window_that_is_not_a_number_is_a_backend_error() -> None:
    api = DatasetsApi({"acme-analytics.crm": {"maxTimeTravelHours": "two days"}})
    with pytest.raises(BackendError, match=r"acme-analytics\.crm"):
        DatasetTimeTravel(api)("acme-analytics.crm")
