"""Number formats shared by tables and charts: fixed decimals by magnitude, so columns align."""

from __future__ import annotations


def fmt(value: float | None, scale: float | None = None) -> str:
    """Decimals follow the size of `scale` (default: the value), so a delta matches its values."""
    if value is None:
        return "n/a"
    size = abs(value if scale is None else scale)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.2f}"
    return f"{value:.4f}"


def signed(value: float, scale: float | None = None) -> str:
    text = fmt(value, scale)
    return text if text.startswith("-") else f"+{text}"


def limit(value: float) -> str:
    """Thresholds as the spec wrote them: 0.75, 80, 0.02."""
    return f"{value:g}"
