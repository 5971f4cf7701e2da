"""Small typed readers over untyped JSON, so decoders fail with an EventError naming the field."""

from __future__ import annotations

import math
import re
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


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ASCII_COUNT = re.compile(r"[0-9]{1,19}", re.ASCII)


def count(obj: Any, *keys: str) -> int | None:
    """An int64 count; JSON carries int64 as a string of ASCII digits (no sign, separator or
    other script's digits, which Python's int() would accept). None when absent."""
    value = dig(obj, *keys)
    if value is None:
        return None
    where = ".".join(keys)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise EventError(f"field {where} is not a count: {value!r}")
    if isinstance(value, str) and not _ASCII_COUNT.fullmatch(value):
        raise EventError(f"field {where} is not a count: {value[:40]!r}")
    number = int(value)
    if number < 0:
        raise EventError(f"field {where} is negative: {number}")
    if number > MAX_INT64:
        raise EventError(f"field {where} is larger than an int64 count: {str(number)[:40]}")
    return number


def number(obj: Any, *keys: str) -> float | None:
    """A finite JSON number; a string, NaN or infinity where a measurement belongs is refused."""
    value = dig(obj, *keys)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EventError(f"field {'.'.join(keys)} is not a number: {value!r:.40}")
    result = float(value)
    if not math.isfinite(result):
        raise EventError(f"field {'.'.join(keys)} is not a finite number: {value!r}")
    return result


def timestamp(obj: Any, *keys: str) -> datetime:
    """An RFC 3339 time (up to nanoseconds); the epoch when absent so keys stay deterministic."""
    value = text(obj, *keys)
    if not value:
        return EPOCH
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
