"""Small typed readers over untyped JSON, so decoders fail with an EventError naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from retrain.errors import EventError

MAX_INT64 = 2**63 - 1  # counts in Google's logs are int64; anything larger is not a count
# Times outside these years are not real events, and would overflow window arithmetic.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(3000, 1, 1, tzinfo=timezone.utc)


def dig(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]...; None when any step is missing or not an object."""
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def text(obj: Any, *keys: str, required: bool = False) -> str:
    value = dig(obj, *keys)
    if value is None or value == "":
        if required:
            raise EventError(f"missing field {'.'.join(keys)}")
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise EventError(f"field {'.'.join(keys)} is a {type(value).__name__}, not a string")
    return str(value)


def count(obj: Any, *keys: str) -> int | None:
    """An int64 count; JSON carries int64 as a string. None when absent."""
    value = dig(obj, *keys)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise EventError(f"field {'.'.join(keys)} is not a count: {value!r}")
    try:
        number = int(value)
    except ValueError as exc:
        raise EventError(f"field {'.'.join(keys)} is not a count: {value!r}") from exc
    if number < 0:
        raise EventError(f"field {'.'.join(keys)} is negative: {number}")
    if number > MAX_INT64:
        raise EventError(f"field {'.'.join(keys)} is larger than an int64 count: {value!r:.40}")
    return number


def number(obj: Any, *keys: str) -> float | None:
    value = dig(obj, *keys)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise EventError(f"field {'.'.join(keys)} is not a number: {value!r}")
    try:
        return float(value)
    except ValueError as exc:
        raise EventError(f"field {'.'.join(keys)} is not a number: {value!r}") from exc


def timestamp(obj: Any, *keys: str) -> datetime:
    """An RFC 3339 time (up to nanoseconds); the epoch when absent so keys stay deterministic."""
    value = text(obj, *keys)
    if not value:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)
    cleaned = value.replace("Z", "+00:00")
    if "." in cleaned:  # Python parses at most 6 fractional digits
        head, _, rest = cleaned.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        cleaned = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        parsed = datetime.fromisoformat(cleaned)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        utc = parsed.astimezone(timezone.utc)  # overflows at the calendar's edges
    except (ValueError, OverflowError) as exc:
        raise EventError(f"field {'.'.join(keys)} is not a timestamp: {value!r:.60}") from exc
    if not EARLIEST <= utc < LATEST:
        raise EventError(
            f"field {'.'.join(keys)} is outside the years {EARLIEST.year}-{LATEST.year - 1}: "
            f"{value!r:.60}"
        )
    return parsed


def mapping(obj: Any, *keys: str) -> dict[str, str]:
    value = dig(obj, *keys)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EventError(f"field {'.'.join(keys)} is not an object")
    return {str(k): str(v) for k, v in value.items()}
