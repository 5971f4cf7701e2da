"""Readers of the evaluation summary get a clear error naming the file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrain.errors import SummaryError
from retrain.summary import read_summary, summary_path


def test_summary_path_is_computable_from_root_and_run_id() -> None:
    assert summary_path("gs://b/pipelines/churn/", "job-1") == (
        "gs://b/pipelines/churn/summaries/job-1/evaluation_summary.json"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        (
            json.dumps({"schema_version": 9}),
            "schema_version 9 is not supported (this reader knows 1, 2, 3, 4)",
        ),
        (json.dumps({"schema_version": 1, "spec": "x"}), ": spec_version: Field required"),
    ],
)
def test_bad_summaries(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(content)
    with pytest.raises(SummaryError) as caught:
        read_summary(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SummaryError, match="cannot read"):
        read_summary(tmp_path / "absent.json")


def test_version_1_summaries_still_read(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "compare" / "fixtures" / "churn_pass.json"
    raw = json.loads(fixture.read_text())
    assert raw["schema_version"] == 1 and "data" not in raw
    summary = read_summary(fixture)
    assert summary.schema_version == 1
    assert summary.data is None and summary.per_class == []


def test_version_2_data_facts_read(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "compare" / "fixtures" / "churn_pass.json"
    raw = json.loads(fixture.read_text())
    raw["schema_version"] = 2
    raw["data"] = {"rows_read": 344, "rows_dropped": {"label sex missing": 11}, "missing": {}}
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(raw))
    summary = read_summary(path)
    assert summary.data is not None
    assert summary.data.rows_dropped == {"label sex missing": 11}
    raw["data"]["rows_read"] = "many"
    path.write_text(json.dumps(raw))
    with pytest.raises(SummaryError, match=r"data\.rows_read"):
        read_summary(path)


def test_version_3_lineage_and_production_baseline(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "compare" / "fixtures" / "churn_pass.json"
    raw = json.loads(fixture.read_text())
    raw["schema_version"] = 2
    path = tmp_path / "v3.json"
    path.write_text(json.dumps(raw))
    older = read_summary(path)
    assert older.lineage is None and older.baseline is not None and older.baseline.version == ""
    raw["schema_version"] = 3
    raw["baseline"] = {"uri": "gs://b/pipelines/churn/Trainer/model/7", "version": "churn-1"}
    raw["lineage"] = {
        "spec_commit": "9b241c8",
        "trigger": "data_arrival",
        "event_id": "m-1",
        "data_snapshot": "2026-11-20T05:00:00Z",
        "schema_blob": "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
        "baseline_version": "churn-1",
        "candidate_uri": "gs://b/pipelines/churn/Trainer/model/9",
    }
    path.write_text(json.dumps(raw))
    summary = read_summary(path)
    assert summary.schema_version == 3
    assert summary.baseline is not None and summary.baseline.version == "churn-1"
    assert summary.lineage is not None and summary.lineage.data_snapshot == "2026-11-20T05:00:00Z"
    raw["lineage"]["data_rows"] = "some"
    path.write_text(json.dumps(raw))
    with pytest.raises(SummaryError, match=r"lineage\.data_rows"):
        read_summary(path)


def test_older_version_fixtures_stay_and_read_without_intervals() -> None:
    """The checked-in summaries of versions 1 to 3 (tests/compare/fixtures) are kept as they
    were written, and read with no interval, slices not gating, within noise held."""
    fixtures = Path(__file__).parent / "compare" / "fixtures"
    versions: dict[int, int] = {}
    for path in sorted(fixtures.glob("*.json")):
        summary = read_summary(path)
        versions[summary.schema_version] = versions.get(summary.schema_version, 0) + 1
        if summary.schema_version < 4:
            assert summary.confidence is None and summary.changes == []
            assert (summary.slices_gate, summary.within_noise, summary.confusion) == (
                False,
                "hold",
                [],
            )
            assert all(m.change_interval is None for m in summary.metrics)
    assert {1, 2, 3, 4} <= set(versions), versions
