"""Candidate against baseline, per metric and slice, with the spec's thresholds: pure."""

from retrain.compare.core import compare, slice_key
from retrain.compare.model import Check, Comparison, MetricRow, Note, SliceKey, Verdict
from retrain.summary import thresholds_from_spec

__all__ = [
    "Check",
    "Comparison",
    "MetricRow",
    "Note",
    "SliceKey",
    "Verdict",
    "compare",
    "slice_key",
    "thresholds_from_spec",
]
