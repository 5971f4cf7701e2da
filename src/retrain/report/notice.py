"""The failure notice: one GitHub issue per spec, found again by its marker and edited in place.

It says what stopped retraining (a failed run, a refused submit, no success for too long),
which component, the error with credentials redacted, the run and its trigger, and mentions
the spec's owner. The next successful run closes it with a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

from retrain.report.escape import code, fenced

IncidentKind = Literal["run_failed", "refused", "stale", "schema_drift"]
NOTICE_LABELS = ("retrain", "retrain: notice")
# A GitHub user or team handle (@login or @org/team); anything else is shown, not mentioned.
_HANDLE = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9._-]{1,100})?$")
_HEADS = {
    "run_failed": "💥 Retraining failed",
    "refused": "⛔ Retraining refused",
    "stale": "⏳ Retraining is stale",
    "schema_drift": "🧬 The watched table's schema drifted",
}


@dataclass(frozen=True)
class Incident:
    """What went wrong for one spec; every text here may come from untrusted sources."""

    spec: str
    kind: IncidentKind
    summary: str
    component: str = ""
    error: str = ""
    job_id: str = ""
    trigger: str = ""
    event_id: str = ""


def notice_marker(spec: str) -> str:
    return f"<!-- retrain:notice spec={quote(spec, safe='-_.')} -->"


_NOTICE_MARKER = re.compile(r"<!-- retrain:notice spec=([A-Za-z0-9%._-]{1,200}) -->")


def notice_spec(body: str) -> str | None:
    """The spec a notice is about, from the marker its body starts with (None: not a notice)."""
    found = _NOTICE_MARKER.match(body.lstrip())
    return unquote(found.group(1)) if found else None


def notice_title(problem: Incident) -> str:
    return f"retrain: {problem.spec}: {_HEADS[problem.kind].split(' ', 1)[1].lower()}"


def mention(owner: str) -> str:
    return owner if _HANDLE.match(owner) else code(owner)


def render_notice(problem: Incident, owner: str) -> str:
    lines = [
        notice_marker(problem.spec),
        f"### {_HEADS[problem.kind]}: {code(problem.spec)}",
        "",
        f"{mention(owner)}: {code(problem.summary)}" if owner else code(problem.summary),
        "",
    ]
    facts = [
        ("Component", problem.component),
        ("Run", problem.job_id),
        ("Trigger", problem.trigger.replace("_", " ")),
        ("Event", problem.event_id),
    ]
    lines += [f"- {name}: {code(value)}" for name, value in facts if value]
    if problem.error:
        lines += ["", "Error:", "", fenced(problem.error)]
    lines += [
        "",
        "This issue is updated in place while the problem lasts and closed by the next "
        "successful run.",
    ]
    return "\n".join(lines) + "\n"


def render_resolved(job_id: str) -> str:
    return f"Resolved: run {code(job_id)} succeeded."
