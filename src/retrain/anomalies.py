"""How much a run's data anomalies matter: TFDV's kind, not its severity, decides.

ExampleValidator marks nearly every anomaly ERROR, so its severity says little. What a user
needs to know is whether the data changed in a way the model copes with (a new category, a few
missing values, a new column: warnings, and the first and last are legitimate changes a schema
PR can accept) or in a way that breaks its inputs (a column gone, a type changed: errors).
Kinds are the names of TFDV's `AnomalyInfo.Type` (tensorflow_metadata anomalies.proto); a kind
not listed here is an error, so an unfamiliar anomaly is never played down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from retrain.summary import Anomaly, EvaluationSummary

Level = Literal["warning", "error"]

# The data changed in a way the schema can accept: a schema change PR proposes it.
SCHEMA_CHANGES = {
    "SCHEMA_NEW_COLUMN": "a new column",
    "ENUM_TYPE_UNEXPECTED_STRING_VALUES": "a new category",
}
WARNINGS = {
    **SCHEMA_CHANGES,
    "FEATURE_TYPE_LOW_FRACTION_PRESENT": "missing values",
    "FEATURE_TYPE_LOW_NUMBER_PRESENT": "missing values",
    "FLOAT_TYPE_BIG_FLOAT": "a value above the schema's range",
    "FLOAT_TYPE_SMALL_FLOAT": "a value below the schema's range",
    "INT_TYPE_BIG_INT": "a value above the schema's range",
    "INT_TYPE_SMALL_INT": "a value below the schema's range",
    "FEATURE_TYPE_HIGH_UNIQUE": "more distinct values than the schema allows",
    "FEATURE_TYPE_LOW_UNIQUE": "fewer distinct values than the schema allows",
    "COMPARATOR_L_INFTY_HIGH": "its distribution drifted",
    "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH": "its distribution drifted",
    "COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH": "its distribution drifted",
    "DATASET_LOW_NUM_EXAMPLES": "fewer rows than the schema expects",
    "DATASET_HIGH_NUM_EXAMPLES": "more rows than the schema expects",
}
ERRORS = {
    "SCHEMA_MISSING_COLUMN": "a column is gone",
    "FEATURE_TYPE_NOT_PRESENT": "a column is gone",
    "FEATURE_TYPE_NO_VALUES": "a column holds no values",
    "UNEXPECTED_DATA_TYPE": "its type changed",
    "STRING_TYPE_NOW_FLOAT": "its type changed",
    "STRING_TYPE_NOW_INT": "its type changed",
    "FLOAT_TYPE_NOT_FLOAT": "its type changed",
    "FLOAT_TYPE_STRING_NOT_FLOAT": "its type changed",
    "INT_TYPE_INT_EXPECTED": "its type changed",
    "INT_TYPE_NOT_INT_STRING": "its type changed",
}
# "A few" missing values: at most this share of the rows; more is an error (the imputed
# values would then carry the model).
MAX_MISSING_SHARE = 0.1


@dataclass(frozen=True)
class Finding:
    feature: str
    kinds: tuple[str, ...]
    level: Level
    why: str
    description: str
    # New categories as the statistics hold them (every split's, merged); None when the
    # pipeline did not write them (older summaries: read from the description).
    values: tuple[str, ...] | None = None

    @property
    def schema_change(self) -> bool:
        """A legitimate change (new column or category) a schema PR can accept."""
        return self.level == "warning" and any(k in SCHEMA_CHANGES for k in self.kinds)


def _kind_level(kind: str, missing_share: float | None) -> tuple[Level, str]:
    if kind in ("FEATURE_TYPE_LOW_FRACTION_PRESENT", "FEATURE_TYPE_LOW_NUMBER_PRESENT"):
        if missing_share is not None and missing_share > MAX_MISSING_SHARE:
            return "error", f"{missing_share:.0%} of its values are missing"
        if missing_share is not None:
            return "warning", f"a few missing values ({missing_share:.1%})"
    if kind in WARNINGS:
        return "warning", WARNINGS[kind]
    return "error", ERRORS.get(kind, "an anomaly this service does not rate lower")


def classify(summary: EvaluationSummary) -> list[Finding]:
    """One finding per anomalous feature (TFDV reports one per split: they are merged),
    errors first."""
    rows = sum(summary.example_counts.values())
    missing = summary.data.missing if summary.data is not None else {}
    merged: dict[str, list[Anomaly]] = {}
    for anomaly in summary.anomalies:
        merged.setdefault(anomaly.feature, []).append(anomaly)
    findings = []
    for feature, found in merged.items():
        kinds = tuple(sorted({k for a in found for k in a.kind.split(",") if k}))
        share = missing[feature] / rows if rows and feature in missing else None
        rated = [_kind_level(kind, share) for kind in kinds or ("UNKNOWN_TYPE",)]
        errors = [why for level, why in rated if level == "error"]
        level: Level = "error" if errors else "warning"
        why = "; ".join(dict.fromkeys(errors or [why for _, why in rated]))
        description = "\n".join(a.description for a in found if a.description)
        listed = [a.values for a in found if a.values is not None]
        values = tuple(dict.fromkeys(v for vs in listed for v in vs)) if listed else None
        findings.append(Finding(feature, kinds, level, why, description, values))
    return sorted(findings, key=lambda f: (f.level != "error", f.feature))


def anomalies_json(findings: list[Finding]) -> dict[str, Any]:
    """The findings as TFDV's `Anomalies` message in JSON (protobuf's JSON mapping of
    anomalies.proto: `anomalyInfo` keyed by feature, each with `severity`, `description` and
    `reason[{type, description}]`), the shape `on_drift_alert` decodes."""
    return {
        "anomalyInfo": {
            f.feature: {
                "severity": f.level.upper(),
                "description": f.description or f.why,
                "shortDescription": f.why,
                "reason": [{"type": kind, "description": f.why} for kind in f.kinds],
            }
            for f in findings
        }
    }
