"""What to post where for a finished run: pure, from the outcome, its summary and comparison.

The one rule first: only a run the backend proved to be production (`RunOutcome.production`,
checked by `retrain.routing.run_complete`) acts on production: the spec's failure notice, its
promotion PR, its schema change PR, the drift alert for its anomalies. Every other run (a PR's
candidate, whatever its labels say) may at most comment on its own PR. Every function below
asks `acts_on_production`; the handler does only what a plan says.

failed/cancelled ─► pull_request run: comment on its PR
                 └► failed production data_arrival / drift / schedule run: the spec's notice
succeeded ─► pull_request run ─► comment on that PR
         └► production data_arrival / drift / schedule run: close the spec's notice; when
            blessed by TFX, open or update the spec's promotion PR, then comment there
         └► production run whose data has a new column or category
              ─► open or update the spec's schema change PR; its anomalies, a drift alert
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from retrain.anomalies import Finding
from retrain.codehost.port import FileProposal, PromotionRequest
from retrain.codehost.schema_edit import propose_schema
from retrain.compare import Comparison
from retrain.report.escape import code, one_line
from retrain.runs import RunOutcome
from retrain.spec.tfschema import SCHEMA_SUFFIX
from retrain.summary import EvaluationSummary

PROMOTING_TRIGGERS = ("data_arrival", "drift", "schedule")
Action = Literal["commented", "promoted", "skipped", "noticed"]


@dataclass(frozen=True)
class CompletionPlan:
    """Comment on `pr`, or open `promotion` and comment on the PR that gives; or neither.
    `notice`: report the run's failure on the spec's notice issue; `resolve_notice`: close it;
    `alert` and `schema`: publish the run's anomalies as a drift alert, propose the schema
    change PR. All four act on production: only a production run's plan sets them."""

    action: Action
    reason: str
    pr: int | None = None
    promotion: PromotionRequest | None = None
    notice: bool = False
    resolve_notice: bool = False
    alert: bool = False
    schema: bool = False


def acts_on_production(outcome: RunOutcome) -> bool:
    """The one gate: a run acts on production only when the backend proved it production."""
    return outcome.production and outcome.trigger != "pull_request"


def pr_of(outcome: RunOutcome) -> int | None:
    """Only a pull_request run belongs to a PR; other runs' PR labels mean nothing."""
    return outcome.pr_number if outcome.trigger == "pull_request" else None


def after_unfinished(outcome: RunOutcome) -> CompletionPlan:
    pr = pr_of(outcome)
    if pr is not None:
        return CompletionPlan("commented", f"run {outcome.state}", pr)
    if (
        outcome.state == "failed"
        and outcome.trigger in PROMOTING_TRIGGERS
        and acts_on_production(outcome)
    ):
        return CompletionPlan("noticed", f"run {outcome.state}; notice posted", notice=True)
    return CompletionPlan("skipped", f"run {outcome.state}; no PR to comment on")


def after_unreadable(outcome: RunOutcome) -> CompletionPlan:
    """The summary cannot be read: tell its PR, or (production) the spec's notice."""
    pr = pr_of(outcome)
    if pr is not None:
        return CompletionPlan("commented", "summary unreadable", pr)
    production = outcome.trigger in PROMOTING_TRIGGERS and acts_on_production(outcome)
    return CompletionPlan("skipped", "summary unreadable", notice=production)


def after_success(
    outcome: RunOutcome,
    summary: EvaluationSummary,
    comparison: Comparison,
    *,
    specs_dir: str,
    base_branch: str,
) -> CompletionPlan:
    pr = pr_of(outcome)
    if pr is not None:
        return CompletionPlan("commented", comparison.verdict, pr)
    if not acts_on_production(outcome):
        return CompletionPlan("skipped", "not a production run: it acts on nothing")
    # A drift run's anomalies are the ones that started it: no alert loop.
    alert = outcome.trigger != "drift"
    if outcome.trigger not in PROMOTING_TRIGGERS:
        reason = f"{outcome.trigger} runs are not promoted"
        return CompletionPlan("skipped", reason, alert=alert, schema=True)
    if not summary.blessed:
        reason = "TFX did not bless the candidate"
        return CompletionPlan("skipped", reason, resolve_notice=True, alert=alert, schema=True)
    if comparison.promotion_hold:  # the intervals: worse, or within noise held by the spec
        reason = f"not promoted: {comparison.promotion_hold}"
        return CompletionPlan("skipped", reason, resolve_notice=True, alert=alert, schema=True)
    return CompletionPlan(
        "promoted",
        "promotion PR",
        promotion=proposal(outcome, summary, comparison, specs_dir, base_branch),
        resolve_notice=True,
        alert=alert,
        schema=True,
    )


def proposal(
    outcome: RunOutcome,
    summary: EvaluationSummary,
    comparison: Comparison,
    specs_dir: str,
    base_branch: str,
) -> PromotionRequest:
    """The run id is the version: unique, deterministic, and it leads back to the run."""
    labels: tuple[str, ...] = ("retrain", "promotion")
    if not comparison.agrees_with_tfx:
        labels = (*labels, "retrain: checks disagree")
    lines = [
        f"Promote {code(summary.spec)} to the candidate of run {code(outcome.job_id)} "
        f"({outcome.trigger.replace('_', ' ')}).",
        "",
        f"- Candidate model: {code(summary.candidate.pushed_uri or summary.candidate.uri)}",
        f"- Verdict: **{comparison.verdict}**; TFX "
        f"{'blessed' if summary.blessed else 'did not bless'} it.",
        "",
        "Merging records this version in the spec's `promotion.version`, which promotes it;"
        " closing this PR rejects the candidate. A newer candidate updates this PR. The "
        "comparison is in the comment below.",
    ]
    return PromotionRequest(
        spec=summary.spec,
        spec_path=f"{specs_dir.rstrip('/')}/{summary.spec}.yaml",
        version=outcome.job_id,
        title=f"Promote {summary.spec} to {outcome.job_id}",
        body="\n".join(lines),
        base=base_branch,
        labels=labels,
    )


def schema_proposal(
    outcome: RunOutcome,
    findings: list[Finding],
    specs_dir: str,
    base_branch: str,
) -> FileProposal | None:
    """One PR per spec proposing the schema update for the run's legitimate changes (a new
    column or category), with every anomaly listed; None when there is none. Merging accepts
    the change; a later run with changes updates the same PR (its branch is the spec's)."""
    changes = [f for f in findings if f.schema_change]
    if not changes:
        return None
    spec = outcome.spec
    # Column names come from the data: a title shows them on one line, controls escaped.
    what = "; ".join(f"{one_line(f.feature, 80)}: {f.why}" for f in changes)
    lines = [
        f"Run {code(outcome.job_id)} ({outcome.trigger.replace('_', ' ')}) found data that the "
        f"checked-in schema of {code(spec)} does not describe. These look like legitimate "
        "changes, so this PR proposes accepting them:",
        "",
        *(f"- {code(f.feature)}: {f.why} ({', '.join(code(k) for k in f.kinds)})" for f in changes),
        "",
        "Every anomaly of the run:",
        "",
        *(f"- {code(f.feature)}: **{f.level}**, {f.why}" for f in findings),
        "",
        "New categories join the feature's domain (the values come from the run's TFDV "
        "statistics); a new column is recorded as known but unused (`lifecycle_stage: "
        "DEPRECATED`): to train on it, add it to the spec's features and re-run `retrain schema "
        "infer`. Merging accepts the update; closing this PR keeps the schema as it is. A later "
        "run with changes updates this PR.",
    ]
    return FileProposal(
        spec=spec,
        path=f"{specs_dir.rstrip('/')}/{spec}{SCHEMA_SUFFIX}",
        branch=f"retrain/schema-{spec}",
        title=one_line(f"Schema update for {spec}: {what}", 200),
        body="\n".join(lines),
        commit_message=f"Accept schema changes of {spec} seen by {outcome.job_id}",
        edit=lambda text: propose_schema(text, changes).text,
        base=base_branch,
        labels=("retrain", "schema"),
    )
