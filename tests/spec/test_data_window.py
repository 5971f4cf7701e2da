"""data.window: a run trains on the rows whose data.time_column is in (snapshot - window,
snapshot], on BigQuery (in the time-travel query) and locally (in the DuckDB selection)."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from retrain.data.local import materialize, snapshot_input
from retrain.errors import PipelineError
from retrain.pipeline_env.compile import snapshot_queries
from retrain.spec import Spec
from retrain.spec.load import parse_spec
from retrain.spec.sql import at_snapshot, windowed_query
from tests.spec.test_validate import VALID, problems, write

TABLE = "my-project.analytics.customers"
SNAPSHOT = "2026-11-20T05:00:00Z"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
WINDOW = "  window: 2d\n  time_column: updated_at\n  local:\n"


def windowed(text: str = VALID, query: str | None = None) -> str:
    lines = WINDOW if query is None else f'  query: "{query}"\n{WINDOW}'
    return text.replace("  local:\n", lines).replace("data/toy.csv", "toy.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            VALID.replace("  local:\n", "  window: 90d\n  local:\n"),
            "toy.yaml:7: data.window: data.window needs data.time_column: the column it filters on",
        ),
        (
            VALID.replace("  local:\n", "  window: 400d\n  time_column: ts\n  local:\n"),
            "toy.yaml:7: data.window: 400d is longer than the largest duration allowed, 366d",
        ),
        (
            VALID.replace("  local:\n", "  window: 90d\n  time_column: churned\n  local:\n"),
            "toy.yaml:8: data.time_column: time_column 'churned' is the label",
        ),
    ],
)
def test_a_window_needs_a_time_column_that_is_not_the_label(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert problems(write(tmp_path, text)) == [expected]


def test_unset_window_keeps_the_spec_version() -> None:
    plain = parse_spec(VALID, "toy.yaml")
    assert "window" not in plain.identity()["data"]
    with_window = parse_spec(windowed(), "toy.yaml")
    assert with_window.fingerprint() != plain.fingerprint()


def test_bigquery_query_filters_the_window_ending_at_the_snapshot() -> None:
    spec = parse_spec(windowed(), "toy.yaml")
    query = snapshot_queries([spec])["toy"]  # what `retrain compile` puts in the template
    run = at_snapshot(query, SNAPSHOT, NOW)
    assert run == (
        "SELECT age, country, churned FROM (SELECT age, country, churned, updated_at FROM "
        f"`{TABLE}` FOR SYSTEM_TIME AS OF TIMESTAMP '{SNAPSHOT}') AS retrain_window "
        "WHERE CAST(updated_at AS TIMESTAMP) > "
        f"TIMESTAMP_SUB(TIMESTAMP '{SNAPSHOT}', INTERVAL '172800' SECOND) "
        f"AND CAST(updated_at AS TIMESTAMP) <= TIMESTAMP '{SNAPSHOT}'"
    )
    assert "CURRENT_TIMESTAMP()" in at_snapshot(query, "", NOW)  # no snapshot: ends now


def test_without_a_window_the_query_is_the_specs() -> None:
    spec = parse_spec(VALID, "toy.yaml")
    assert windowed_query(spec) == f"SELECT age, country, churned FROM `{TABLE}`"


def test_a_custom_query_must_select_the_time_column(tmp_path: Path) -> None:
    query = f"SELECT age, country, churned FROM `{TABLE}`"
    spec = parse_spec(windowed(query=query), "toy.yaml")
    rows = [{"age": "1", "country": "DE", "churned": "1", "updated_at": "2026-11-19"}]
    write_csv(tmp_path / "toy.csv", rows)
    with pytest.raises(PipelineError, match=r"must select updated_at \(data.time_column\)"):
        materialize(spec, tmp_path, tmp_path / "out.csv", SNAPSHOT)


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# Around the snapshot 2026-11-20T05:00:00Z with a 2-day window: the start is excluded, the
# end included, later rows (arrived after the snapshot) and older ones are not read.
STAMPS = {
    "2026-11-18 05:00:00": False,  # exactly snapshot - window: outside
    "2026-11-18 05:00:01": True,
    "2026-11-20 05:00:00": True,  # the snapshot itself
    "2026-11-20 05:00:01": False,
    "2026-10-01 00:00:00": False,
}


def window_rows() -> list[dict[str, str]]:
    rows = []
    for i in range(30):
        for j, stamp in enumerate(STAMPS):
            age = str(100 * j + i)
            rows.append({"age": age, "country": "DE", "churned": str(i % 2), "updated_at": stamp})
    return rows


@pytest.mark.parametrize("query", [None, f"SELECT * FROM `{TABLE}` WHERE country = 'DE'"])
def test_local_selection_reads_only_the_rows_in_the_window(
    tmp_path: Path, query: str | None
) -> None:
    spec: Spec = parse_spec(windowed(query=query), "toy.yaml")
    write_csv(tmp_path / "toy.csv", window_rows())
    out = snapshot_input(spec, tmp_path, tmp_path / "work", SNAPSHOT)
    with out.open() as handle:
        kept = list(csv.DictReader(handle))
    assert list(kept[0]) == ["age", "country", "churned"]  # the time column does not leave
    inside = [j for j, keep in enumerate(STAMPS.values()) if keep]
    assert sorted(int(r["age"]) for r in kept) == sorted(
        100 * j + i for j in inside for i in range(30)
    )


def test_local_window_reads_zoned_times_in_utc(tmp_path: Path) -> None:
    spec = parse_spec(windowed(), "toy.yaml")
    rows = [
        {"age": str(i), "country": "DE", "churned": str(i % 2), "updated_at": stamp}
        for i, stamp in enumerate(["2026-11-20T05:00:00+00:00", "2026-11-20T06:00:00+02:00"] * 30)
    ]
    write_csv(tmp_path / "toy.csv", rows)
    # 06:00+02:00 is 04:00 UTC: inside; both are inside, 60 rows
    assert materialize(spec, tmp_path, tmp_path / "out.csv", SNAPSHOT) == 60
    later = [dict(r, updated_at="2026-11-20T06:00:00+00:00") for r in rows]
    write_csv(tmp_path / "toy.csv", later + rows)
    assert materialize(spec, tmp_path, tmp_path / "out.csv", SNAPSHOT) == 60


@pytest.mark.parametrize(
    ("stamps", "inside"),
    [
        (["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"], 2),  # DATE: midnight UTC
        (["2026-11-18 04:00:00", "2026-11-18 06:00:00", "2026-11-20 05:00:00"], 2),  # DATETIME
    ],
)
def test_a_date_or_datetime_time_column_is_windowed_as_utc_timestamps(
    tmp_path: Path, stamps: list[str], inside: int
) -> None:
    """The window compares the time column cast to TIMESTAMP, so DATE and DATETIME columns
    (which BigQuery will not compare with a TIMESTAMP as they are) select the same rows."""
    spec = parse_spec(windowed(), "toy.yaml")
    rows = [
        {"age": str(100 * j + i), "country": "DE", "churned": str(i % 2), "updated_at": stamp}
        for j, stamp in enumerate(stamps)
        for i in range(30)
    ]
    write_csv(tmp_path / "toy.csv", rows)
    assert materialize(spec, tmp_path, tmp_path / "out.csv", SNAPSHOT) == 30 * inside


def test_the_data_window_run_value_is_the_window_read() -> None:
    from retrain.delivery.candidate import candidate_request
    from retrain.runs import Baseline, data_window

    assert data_window("2d", SNAPSHOT) == "2026-11-18T05:00:00Z/2026-11-20T05:00:00Z"
    assert data_window(None, SNAPSHOT) == ""  # no window: every row of the snapshot
    assert data_window("2d", "") == "2d before the run's start"
    spec = parse_spec(windowed(), "toy.yaml")
    request = candidate_request(spec, "9b241c8", 7, Baseline(), SNAPSHOT)
    assert request.parameters()["data_window"] == "2026-11-18T05:00:00Z/2026-11-20T05:00:00Z"
    plain = candidate_request(parse_spec(VALID, "toy.yaml"), "9b241c8", 7, Baseline(), SNAPSHOT)
    assert plain.parameters()["data_window"] == ""
