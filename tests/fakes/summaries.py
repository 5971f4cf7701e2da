"""The hand-written evaluation summaries under tests/compare/fixtures, by name."""

from __future__ import annotations

from pathlib import Path

from retrain.summary import EvaluationSummary, read_summary

FIXTURES = Path(__file__).resolve().parents[1] / "compare" / "fixtures"


def fixture_path(name: str) -> Path:
    return FIXTURES / f"{name}.json"


def load(name: str) -> EvaluationSummary:
    return read_summary(fixture_path(name))
