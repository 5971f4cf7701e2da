"""`retrain explain EVENT_ID`: the decisions recorded for one delivery, and the policy behind them.

The reason of each decision was written when it was made; the policy shown beside it is the
spec as it reads now (the decision does not record the spec version it was made with), and the
state store's counters as they are now. Each is labelled as such.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from retrain.errors import RetrainError
from retrain.inventory.gather import Inventory
from retrain.inventory.model import Decided
from retrain.inventory.status import pending_line
from retrain.spec import Spec
from retrain.state.base import SpecState


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True)

    spec: str
    triggers: dict[str, object] = Field(description="The spec's triggers, as it reads now.")
    pending: SpecState | None = None
    pending_line: str = ""


class Explanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    matched_by: str
    decisions: list[Decided]
    policies: list[Policy]


def explain(inventory: Inventory, event_id: str) -> Explanation:
    if not event_id.strip():
        raise RetrainError("explain: the event id is empty")
    matched_by = "event id"
    found = [d for d in inventory.decisions if d.record.event_id == event_id]
    if not found:
        matched_by = "event key"
        found = [d for d in inventory.decisions if d.record.event_key == event_id]
    if not found:
        _a_run_instead(inventory, event_id)
        read = len(inventory.decisions)
        problems = "; ".join(inventory.problems)
        raise RetrainError(
            f"no decision recorded for event {event_id!r} ({read} decisions read from "
            f"{inventory.place}{'; ' + problems if problems else ''})"
        )
    policies = []
    for name in sorted({d.record.spec for d in found if d.record.spec}):
        facts = inventory.model(name)
        if facts is None:
            continue
        policies.append(
            Policy(
                spec=name,
                triggers=_triggers(facts.spec),
                pending=facts.pending,
                pending_line=pending_line(facts),
            )
        )
    return Explanation(
        event_id=event_id, matched_by=matched_by, decisions=list(reversed(found)), policies=policies
    )


def _a_run_instead(inventory: Inventory, job_id: str) -> None:
    """A job id given where an event id is asked: say what the run is, and where to look."""
    for model in inventory.models:
        run = model.run(job_id)
        if run is None:
            continue
        what = f"a {run.trigger or 'manual'} run of {run.spec} ({run.state}"
        what += f", {run.verdict})" if run.verdict else ")"
        then = (
            f"`retrain explain {run.event_id}` shows the decisions that started it"
            if run.event_id
            else "no event started it (it was started by hand)"
        )
        raise RetrainError(
            f"{job_id!r} is {what}, not an event: {then}; `retrain lineage {job_id}` shows "
            "where it came from"
        )


def _triggers(spec: Spec) -> dict[str, object]:
    dumped: dict[str, object] = spec.triggers.model_dump(mode="json")
    return dumped


def _words(value: object) -> str:
    """A trigger's settings as text (`min_new_rows 500, debounce 1h`), not a Python dict."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {_words(v)}" for k, v in value.items() if v is not None) or "-"
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value) or "none"
    return "off" if value is None else str(value)


def render(explanation: Explanation) -> str:
    lines = [
        f"event {explanation.event_id}: {len(explanation.decisions)} decision(s) recorded "
        f"(matched by {explanation.matched_by}), in the order they were made"
    ]
    for d in explanation.decisions:
        r = d.record
        spec = f" for {r.spec}" if r.spec else ""
        job = f", job {r.job_id}" if r.job_id else ""
        lines.append(f"  {r.event} -> {r.decision}{spec}{job}: {r.reason}")
        lines.append(f"    recorded at {d.source}{' ' + d.time if d.time else ''}")
    for policy in explanation.policies:
        lines.append(f"policy of {policy.spec} (the spec as it reads now):")
        for name, value in policy.triggers.items():
            lines.append(f"  {name}: {_words(value)}")
        lines.append(f"  state now: {policy.pending_line.removeprefix('pending').strip()}")
    return "\n".join(lines) + "\n"
