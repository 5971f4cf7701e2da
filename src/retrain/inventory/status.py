"""`retrain status`: one screen per spec, printed from the gathered facts only."""

from __future__ import annotations

from retrain.inventory.gather import Inventory, ModelFacts, promotion_pull
from retrain.inventory.model import Run
from retrain.routing.policy import window_bounds

RUNS_SHOWN = 5
DECISIONS_SHOWN = 5
MISSING = "not recorded"


def production_line(facts: ModelFacts) -> str:
    prod = facts.production
    where = f"{prod.registry_model}@{prod.alias}"
    if not prod.version:
        return f"production  {where}: no version recorded ({prod.source})"
    line = f"production  {where} = {prod.version}"
    if prod.commit is not None:
        line += f", promoted {prod.commit.committed_at} in {prod.commit.sha[:12]}"
    pull = promotion_pull(facts)
    if pull is not None:
        line += f" by PR #{pull.number}"
    elif prod.commit is not None:
        line += " (no promotion PR found for it)"
    return line


def run_line(run: Run) -> str:
    finished = run.finished_at[:19].replace("T", " ") if run.finished_at else "-"
    verdict = run.verdict or (f"no summary: {run.summary_problem}" if run.summary_problem else "-")
    pr = f" PR #{run.pr_number}" if run.pr_number is not None else ""
    return (
        f"  {run.job_id:<44} {run.trigger or MISSING:<13}{pr} {run.state:<10} {finished}  {verdict}"
    )


def render_model(facts: ModelFacts) -> list[str]:
    spec = facts.spec
    lines = [f"== {spec.name}  ({spec.task}, owner {spec.owner})", production_line(facts)]
    lines.append(f"runs        {len(facts.runs)} known; newest first:")
    lines += [run_line(r) for r in facts.runs[:RUNS_SHOWN]] or ["  none"]
    lines.append(pending_line(facts))
    open_pulls = [p for p in facts.pulls if p.state == "open"]
    lines.append("open PRs    " + ("none" if not open_pulls else f"{len(open_pulls)}:"))
    lines += [f"  #{p.number} {p.kind:<9} {p.title}  {p.url}" for p in open_pulls]
    lines.append(
        "notices     " + ("none open" if not facts.notices else f"{len(facts.notices)} open:")
    )
    lines += [f"  #{n.number} {n.title}  {n.url}" for n in facts.notices]
    lines.append("decisions   " + ("none recorded" if not facts.decisions else "newest first:"))
    lines += [
        f"  {d.time[:19] or '-':<19} {r.event:<12} {r.decision:<12} {r.reason}  [{r.event_id}]"
        for d in facts.decisions[:DECISIONS_SHOWN]
        for r in [d.record]
    ]
    lines += [f"missing     {p}" for p in facts.problems]
    return lines


def pending_line(facts: ModelFacts) -> str:
    policy = facts.spec.triggers.data_arrival
    if policy is None:
        return "pending     no data_arrival trigger"
    if facts.pending is None:
        if any(p.startswith("state store") for p in facts.problems):
            return "pending     unknown (state store not read, see below)"
        return f"pending     0 rows (no state recorded); needs {policy.min_new_rows}"
    state = facts.pending
    window = (
        window_bounds(state.last_window, policy.debounce)
        if state.last_window is not None
        else "none yet"
    )
    return (
        f"pending     {state.pending_rows} of {policy.min_new_rows} rows; debounce "
        f"{policy.debounce}, last window {window}; last job {state.last_job_id or '-'}"
    )


def render(inventory: Inventory) -> str:
    lines = [f"facts from {inventory.place}", *(f"note: {n}" for n in inventory.notes)]
    lines += [f"missing: {p}" for p in inventory.problems]
    for facts in inventory.models:
        lines += ["", *render_model(facts)]
    return "\n".join(lines) + "\n"
