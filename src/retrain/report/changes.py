"""What a pull request changed in a spec against its base branch: the fields that can change a
run's result (`Spec.identity`), as dotted paths with both values, for the comment's second line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from retrain.report.escape import code
from retrain.spec.model import Spec
from retrain.summary import SpecChange

MAX_VALUE = 80  # characters of one value kept in the summary
SHOWN = 6  # changes named in the headline's second line


def _flat(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _flat(inner, f"{prefix}.{key}" if prefix else str(key), out)
    elif prefix == "features" and isinstance(value, list):
        # Features by name, so adding one does not show every later one as changed.
        for feature in value:
            name = feature.get("name", "?") if isinstance(feature, dict) else "?"
            _flat(feature, f"features.{name}", out)
    else:
        out[prefix] = value


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def spec_changes(base: Spec, head: Spec) -> list[SpecChange]:
    """The fields of `head` that differ from `base`, in the spec's order."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flat(base.identity(), "", before)
    _flat(head.identity(), "", after)
    fields = [*after, *(f for f in before if f not in after)]
    return [
        SpecChange(field=f, before=_text(before.get(f)), after=_text(after.get(f)))
        for f in fields
        if before.get(f) != after.get(f)
    ]


def _one(change: SpecChange) -> str:
    if not change.before:
        return f"{code(change.field)} added ({code(change.after)})"
    if not change.after:
        return f"{code(change.field)} removed (was {code(change.before)})"
    return f"{code(change.field)} {code(change.before)} → {code(change.after)}"


def changes_line(changes: Sequence[SpecChange]) -> str:
    """`**This PR changed:** `trainer.hyperparameters.hidden_units` `16` → `32``; empty
    when the run has no changes recorded."""
    if not changes:
        return ""
    shown = " · ".join(_one(c) for c in changes[:SHOWN])
    more = f" · and {len(changes) - SHOWN} more" if len(changes) > SHOWN else ""
    return f"**This PR changed:** {shown}{more}"
