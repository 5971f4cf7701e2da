"""The hidden marker that makes a comment findable, so it is edited instead of duplicated."""

from __future__ import annotations

from urllib.parse import quote


def comment_marker(spec: str, pr_number: int) -> str:
    """One marker per (spec, PR). Quoting keeps `-->` and spaces out of the HTML comment."""
    return f"<!-- retrain:comparison spec={quote(spec, safe='-_.')} pr={pr_number} -->"


def has_marker(body: str, marker: str) -> bool:
    """Only a comment that starts with the marker is ours; quoting it later does not count."""
    return body.lstrip().startswith(marker)
