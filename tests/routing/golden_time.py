"""The tests' `now` for the golden events: after every golden event's time (times are bounded
by now: an event dated after it by more than the clock skew is refused)."""

from __future__ import annotations

from datetime import datetime, timezone

GOLDEN_NOW = datetime(2026, 3, 4, 12, tzinfo=timezone.utc)
