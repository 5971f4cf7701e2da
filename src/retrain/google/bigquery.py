"""BigQuery dataset settings the pipeline's reads depend on (the reads themselves are Beam's)."""

from __future__ import annotations

from typing import Any

from retrain.errors import BackendError
from retrain.vendor_errors import translated


def bigquery_client(project: str) -> Any:
    from google.cloud import bigquery

    return bigquery.Client(project=project)


class DatasetTimeTravel:
    """A dataset's `maxTimeTravelHours` (datasets.get, `bigquery.datasets.get`: the watched
    datasets' `roles/bigquery.dataViewer` carries it). None when the dataset leaves it unset,
    which BigQuery reads as 168 hours. The REST resource carries it as an int64 string."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __call__(self, dataset: str) -> int | None:
        with translated(f"reading dataset {dataset}"):
            found = self._client.get_dataset(dataset)
        hours = found.max_time_travel_hours
        if hours is None or hours == "":
            return None
        if isinstance(hours, bool) or not str(hours).isdigit():
            raise BackendError(f"dataset {dataset}: maxTimeTravelHours {hours!r} is not a number")
        return int(hours)
