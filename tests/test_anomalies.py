"""Anomaly severity: TFDV's kind decides warning or error, a few missing values are not many."""

from __future__ import annotations

from pathlib import Path

from retrain.anomalies import anomalies_json, classify
from retrain.events.drift import decode_drift
from retrain.events.types import DriftAlert
from retrain.summary import Anomaly, DataFacts, EvaluationSummary, read_summary

FIXTURE = Path(__file__).parent / "compare" / "fixtures" / "churn_nan.json"


def summary_with(
    anomalies: list[Anomaly], missing: dict[str, int] | None = None
) -> EvaluationSummary:
    base = read_summary(FIXTURE)  # 3,200 train + 800 eval rows
    return base.model_copy(
        update={"anomalies": anomalies, "data": DataFacts(missing=missing or {})}
    )


def test_new_category_and_new_column_are_warnings_that_a_schema_pr_can_accept() -> None:
    findings = classify(
        summary_with(
            [
                Anomaly(feature="contract", kind="ENUM_TYPE_UNEXPECTED_STRING_VALUES"),
                Anomaly(feature="region", kind="SCHEMA_NEW_COLUMN"),
                Anomaly(feature="monthly_charges", kind="COMPARATOR_L_INFTY_HIGH"),
            ]
        )
    )
    assert [(f.feature, f.level, f.schema_change) for f in findings] == [
        ("contract", "warning", True),
        ("monthly_charges", "warning", False),
        ("region", "warning", True),
    ]


def test_missing_column_and_type_change_are_errors_and_come_first() -> None:
    findings = classify(
        summary_with(
            [
                Anomaly(feature="contract", kind="ENUM_TYPE_UNEXPECTED_STRING_VALUES"),
                Anomaly(feature="tenure_months", kind="SCHEMA_MISSING_COLUMN"),
                Anomaly(
                    feature="country",
                    kind="ENUM_TYPE_UNEXPECTED_STRING_VALUES,UNEXPECTED_DATA_TYPE",
                ),
            ]
        )
    )
    assert [(f.feature, f.level, f.why) for f in findings] == [
        ("country", "error", "its type changed"),
        ("tenure_months", "error", "a column is gone"),
        ("contract", "warning", "a new category"),
    ]
    assert not findings[0].schema_change  # a type change is never proposed as a schema update


def test_a_few_missing_values_warn_many_are_an_error() -> None:
    kind = "FEATURE_TYPE_LOW_FRACTION_PRESENT"
    few = classify(
        summary_with([Anomaly(feature="tenure_months", kind=kind)], {"tenure_months": 40})
    )
    many = classify(
        summary_with([Anomaly(feature="tenure_months", kind=kind)], {"tenure_months": 1200})
    )
    assert (few[0].level, few[0].why) == ("warning", "a few missing values (1.0%)")
    assert (many[0].level, many[0].why) == ("error", "30% of its values are missing")


def test_unknown_kind_is_an_error_and_splits_merge() -> None:
    findings = classify(
        summary_with(
            [
                Anomaly(feature="x", kind="SOMETHING_NEW", description="[train] a"),
                Anomaly(feature="x", kind="SOMETHING_NEW", description="[eval] b"),
            ]
        )
    )
    assert len(findings) == 1
    assert (findings[0].level, findings[0].description) == ("error", "[train] a\n[eval] b")


def test_findings_publish_in_the_shape_on_drift_alert_decodes() -> None:
    findings = classify(
        summary_with(
            [
                Anomaly(feature="contract", kind="ENUM_TYPE_UNEXPECTED_STRING_VALUES"),
                Anomaly(feature="tenure_months", kind="SCHEMA_MISSING_COLUMN"),
            ]
        )
    )
    alert = decode_drift({"spec": "churn", "run_id": "r1", "anomalies": anomalies_json(findings)})
    assert isinstance(alert, DriftAlert)
    assert alert.key == "tfdv:churn:r1"
    assert sorted((f.feature, f.kind) for f in alert.features) == [
        ("contract", "ENUM_TYPE_UNEXPECTED_STRING_VALUES"),
        ("tenure_months", "SCHEMA_MISSING_COLUMN"),
    ]
