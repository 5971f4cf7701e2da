"""`retrain run` and `retrain compile` (filled in with the pipeline package)."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    del subparsers
