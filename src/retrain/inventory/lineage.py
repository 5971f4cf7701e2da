"""`retrain lineage`: the recorded chain behind one model version, newest link first.

registry alias -> promotion PR -> run (labels) -> evaluation (summary) -> the baseline's run.
Every link is copied from a source (git, code host, job labels, summary); a link that was not
recorded is printed as missing, never filled in.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from retrain.compare import compare
from retrain.errors import RetrainError
from retrain.inventory.gather import Inventory, ModelFacts, open_promotion, promotion_pull
from retrain.inventory.model import Production, Pull, Run
from retrain.report.numbers import fmt
from retrain.summary import EvaluationSummary

MISSING = "not recorded"


class Evaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    blessed: bool
    verdict: str
    validation_failures: list[str]
    metrics: list[dict[str, str]] = Field(description="Overall metric, candidate, baseline.")
    baseline_model: str = ""


class Link(BaseModel):
    """One run in the chain, with what was recorded about it."""

    model_config = ConfigDict(frozen=True)

    run: Run | None
    job_id: str
    evaluation: Evaluation | None = None
    missing: list[str] = Field(default_factory=list)


class Lineage(BaseModel):
    model_config = ConfigDict(frozen=True)

    spec: str
    asked: str
    production: Production | None = None
    version: str | None
    promotion_pr: Pull | None = None
    proposed_by: Pull | None = None
    model: Link | None = None
    baseline: Link | None = None
    missing: list[str] = Field(default_factory=list)


def lineage(inventory: Inventory, target: str) -> Lineage:
    """`target` is SPEC, SPEC@ALIAS or a job id."""
    spec_name, _, alias = target.partition("@")
    facts = inventory.model(spec_name)
    if facts is not None:
        return _of_alias(facts, target, alias)
    for facts in inventory.models:
        run = facts.run(target)
        if run is not None:
            return Lineage(
                spec=facts.spec.name,
                asked=target,
                version=target,
                model=_link(facts, target),
                baseline=_baseline(facts, facts.run(target)),
            )
    known = ", ".join(m.spec.name for m in inventory.models) or "none"
    raise RetrainError(f"{target!r} is neither a spec (known: {known}) nor a job id of one")


def _of_alias(facts: ModelFacts, target: str, alias: str) -> Lineage:
    prod = facts.production
    if alias and alias != prod.alias:
        raise RetrainError(
            f"{target}: {facts.spec.name}'s spec promotes to alias {prod.alias!r}, not {alias!r}"
        )
    missing = [p for p in facts.problems if not p.startswith("state store")]
    if not prod.version:
        found = open_promotion(facts)
        if found is None:
            return Lineage(spec=facts.spec.name, asked=target, production=prod, version=None,
                           missing=missing)  # fmt: skip
        proposal, proposed = found
        return Lineage(
            spec=facts.spec.name,
            asked=target,
            production=prod,
            version=None,
            proposed_by=proposal,
            model=_link(facts, proposed),
            baseline=_baseline(facts, facts.run(proposed)),
            missing=missing,
        )
    pull = promotion_pull(facts)
    if pull is None:
        missing.append(f"no promotion PR found for {prod.version}")
    return Lineage(
        spec=facts.spec.name,
        asked=target,
        production=prod,
        version=prod.version,
        promotion_pr=pull,
        model=_link(facts, prod.version),
        baseline=_baseline(facts, facts.run(prod.version)),
        missing=missing,
    )


def _link(facts: ModelFacts, job_id: str) -> Link:
    run = facts.run(job_id)
    if run is None:
        return Link(
            run=None, job_id=job_id, missing=[f"run {job_id}: the run backend has no record"]
        )
    missing = []
    if run.summary is None:
        missing.append(f"evaluation: {run.summary_problem or f'the run {run.state}, no summary'}")
        return Link(run=run, job_id=job_id, missing=missing)
    summary = run.summary
    rows = []
    for metric in summary.metrics:
        if not metric.slice:
            rows.append(
                {
                    "metric": metric.metric,
                    "candidate": fmt(metric.candidate),
                    "baseline": fmt(metric.baseline),
                }
            )
    evaluation = Evaluation(
        blessed=summary.blessed,
        verdict=compare(summary).verdict,
        validation_failures=summary.validation_failures,
        metrics=rows,
        baseline_model=summary.baseline.uri if summary.baseline else "",
    )
    return Link(run=run, job_id=job_id, evaluation=evaluation, missing=missing)


def _baseline(facts: ModelFacts, run: Run | None) -> Link | None:
    """The run whose candidate model is this run's baseline, found by the model's URI."""
    if run is None or run.summary is None or run.summary.baseline is None:
        return None
    uri = run.summary.baseline.uri
    for other in facts.runs:
        cand = other.summary.candidate if other.summary else None
        if cand is not None and uri in (cand.uri, cand.pushed_uri):
            return _link(facts, other.job_id)
    return Link(run=None, job_id="", missing=[f"baseline model {uri}: no recorded run made it"])


def render(chain: Lineage) -> str:
    lines = [f"lineage of {chain.asked}, newest link first"]
    prod = chain.production
    if prod is not None:
        head = f"{prod.registry_model}@{prod.alias}"
        if chain.version:
            lines.append(f"registry    {head} -> version {chain.version} ({prod.source})")
        else:
            lines.append(f"registry    {head}: no version recorded ({prod.source})")
        if prod.commit is not None:
            c = prod.commit
            lines.append(
                f"  set by     commit {c.sha[:12]} {c.committed_at} by {c.author}: {c.subject}"
            )
    if chain.promotion_pr is not None:
        lines.append(_pull_line("promoted by", chain.promotion_pr))
    if chain.proposed_by is not None:
        lines.append(_pull_line("proposed by", chain.proposed_by))
    if chain.model is not None:
        lines += _link_lines("run", chain.model)
    if chain.baseline is not None:
        lines += _link_lines("baseline", chain.baseline)
    elif chain.model is not None and chain.model.run is not None:
        summary = chain.model.run.summary
        why = summary.lineage.baseline_note if summary and summary.lineage else ""
        lines.append(f"baseline    none ({why or 'first run of the spec, or none recorded'})")
    lines += [f"missing     {m}" for m in chain.missing]
    return "\n".join(lines) + "\n"


def _snapshot(summary: EvaluationSummary | None) -> str:
    """When the data was read as of, and (local runs) how many rows with which content hash."""
    lineage = summary.lineage if summary else None
    if lineage is None or not lineage.data_snapshot:
        return MISSING
    rows = f", {lineage.data_rows} rows" if lineage.data_rows is not None else ""
    digest = f", sha256 {lineage.data_hash[:12]}" if lineage.data_hash else ""
    return f"{lineage.data_snapshot}{rows}{digest}"


def _schema(summary: EvaluationSummary | None) -> str:
    lineage = summary.lineage if summary else None
    if lineage is None or not lineage.schema_file:
        return MISSING
    blob = f" (blob {lineage.schema_blob[:12]})" if lineage.schema_blob else ""
    return f"{lineage.schema_file}{blob}"


def _image(summary: EvaluationSummary | None) -> str:
    """Local runs use no container; a Vertex run's image is in its template, not its summary."""
    if summary is not None and summary.run.orchestrator == "local":
        return "none (local run)"
    return MISSING


def _pull_line(what: str, pull: Pull) -> str:
    merged = (
        f", merged by {pull.merged_by or MISSING} at {pull.merged_at or MISSING}"
        if pull.state == "merged"
        else f" ({pull.state})"
    )
    return f"{what:<11} PR #{pull.number} {pull.title}{merged}  {pull.url}"


def _link_lines(what: str, link: Link) -> list[str]:
    run = link.run
    if run is None:
        return [f"{what:<11} {link.job_id or '?'}", *(f"  missing   {m}" for m in link.missing)]
    summary = run.summary
    # an empty data window is a fact: the run read every row of its snapshot (no data.window)
    window = (summary.run.data_window or "none (every row)") if summary else MISSING
    counts = (
        ", ".join(f"{k} {v}" for k, v in sorted(summary.example_counts.items())) if summary else ""
    )
    lines = [
        f"{what:<11} {run.job_id} ({run.state})",
        f"  trigger   {run.trigger or MISSING}, event {run.event_id or MISSING}",
        f"  spec      commit {run.git_sha or MISSING}, spec version {run.spec_version or MISSING}",
        f"  data      snapshot {_snapshot(summary)}; window {window}; examples {counts or MISSING}",
        f"  schema    {_schema(summary)}; image {_image(summary)}",
    ]
    if summary is not None:
        lines.append(f"  finished  {summary.run.finished_at}")
    ev = link.evaluation
    if ev is not None:
        tfx = "blessed" if ev.blessed else "not blessed: " + "; ".join(ev.validation_failures)
        lines.append(f"  verdict   {ev.verdict} (TFX: {tfx})")
        for row in ev.metrics:
            lines.append(
                f"    {row['metric']:<10} {row['candidate']:>10} vs baseline {row['baseline']}"
            )
    lines += [f"  missing   {m}" for m in link.missing]
    return lines
