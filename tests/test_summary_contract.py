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
            "schema_version 9 is not supported (this reader knows 1, 2)",
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
