"""PR comments from comparisons: markdown rendering, escaping, the marker, metric history."""

from retrain.report.history import HistoryPoint, MetricHistory, point_from
from retrain.report.marker import comment_marker, has_marker
from retrain.report.render import (
    Report,
    RunLinks,
    links_for,
    render_comparison,
    render_unfinished,
    render_unreadable,
)

__all__ = [
    "HistoryPoint",
    "MetricHistory",
    "Report",
    "RunLinks",
    "comment_marker",
    "has_marker",
    "links_for",
    "point_from",
    "render_comparison",
    "render_unfinished",
    "render_unreadable",
]
