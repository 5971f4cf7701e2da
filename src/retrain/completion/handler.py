"""Carries out what `decide` plans for a finished run: read the summary, record the history,
compare, then comment or propose a promotion through the code host port.

Every I/O goes through a port: the code host (GitHub or local files), the blob store (local
paths or gs://) and the metric history. `retrain.wiring` builds the real ones; tests pass fakes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from retrain.anomalies import Finding, classify
from retrain.blobs import Blobs, BlobStore, is_under
from retrain.codehost.port import CodeHost
from retrain.compare import Comparison, compare
from retrain.completion.alerts import AlertSink, NoAlerts, anomaly_alert
from retrain.completion.decide import (
    Action,
    CompletionPlan,
    after_success,
    after_unfinished,
    after_unreadable,
    schema_proposal,
)
from retrain.completion.history import BlobHistory
from retrain.completion.notices import NoNotices, NoticeSink
from retrain.errors import RetrainError, SummaryError, TransientError
from retrain.report import (
    HistoryPoint,
    MetricHistory,
    Report,
    comment_marker,
    links_for,
    point_from,
    render_comparison,
    render_unfinished,
    render_unreadable,
)
from retrain.report.notice import Incident
from retrain.runs import RunOutcome
from retrain.summary import EvaluationSummary, parse_summary, summary_path

log = logging.getLogger(__name__)

HISTORY_RUNS = 10


@dataclass(frozen=True)
class CompletionResult:
    """What the handler did, for logs and tests."""

    action: Action
    reason: str
    pr_number: int | None = None
    comparison: Comparison | None = None


@dataclass
class CompletionHandler:
    """The service's CompletionSink. Idempotent: a redelivery edits in place."""

    host: CodeHost
    blobs: BlobStore = field(default_factory=Blobs)
    history: MetricHistory | None = None  # default: BlobHistory under history_root
    history_root: str = ""  # default: <pipeline_root>/history
    specs_dir: str = "specs"
    base_branch: str = "main"
    notices: NoticeSink = field(default_factory=NoNotices)
    serving_root: str = ""  # a promoted model must be under <it>/<spec> ("" in tests: anywhere)
    alerts: AlertSink = field(default_factory=NoAlerts)

    def handle(self, outcome: RunOutcome) -> None:
        result = self.process(outcome)
        log.info(
            "completion of %s: %s (%s)%s",
            outcome.job_id,
            result.action,
            result.reason,
            f" on PR #{result.pr_number}" if result.pr_number else "",
        )

    def process(self, outcome: RunOutcome) -> CompletionResult:
        if outcome.state != "succeeded":
            plan = after_unfinished(outcome)
            if plan.pr is not None:
                marker = comment_marker(outcome.spec, plan.pr)
                self.host.upsert_comment(plan.pr, marker, render_unfinished(outcome, marker))
            if plan.notice:
                self.notices.report(_problem(outcome, "the run failed", outcome.error))
            return CompletionResult(plan.action, plan.reason, plan.pr)

        location = summary_path(outcome.pipeline_root, outcome.job_id)
        summary = self._summary(outcome, location)
        comparison = compare(summary)
        plan = after_success(
            outcome, summary, comparison, specs_dir=self.specs_dir, base_branch=self.base_branch
        )
        if plan.resolve_notice:
            self.notices.resolve(outcome.spec, outcome.job_id)
        history = self._history_for(outcome)
        history.record(summary.spec, point_from(summary))
        points = history.recent(summary.spec, HISTORY_RUNS)
        findings = classify(summary)
        result = self._carry_out(plan, outcome, summary, comparison, points, location)
        alert = anomaly_alert(outcome, findings, summary.run.finished_at) if plan.alert else None
        if alert is not None:  # after the comment: an alert that cannot go out loses nothing
            self.alerts.publish(alert)
        if plan.schema:
            self._propose_schema(outcome, findings)
        return result

    def _propose_schema(self, outcome: RunOutcome, findings: list[Finding]) -> None:
        """Best effort beside the comment: a refused schema PR is logged (a transient failure
        redelivers the event; proposing again is idempotent)."""
        proposal = schema_proposal(outcome, findings, self.specs_dir, self.base_branch)
        if proposal is None:
            return
        try:
            opened = self.host.open_or_update_proposal(proposal)
        except TransientError:
            raise
        except RetrainError as exc:
            log.warning("schema change PR for %s not proposed: %s", outcome.spec, exc)
            return
        if opened is not None:
            log.info("schema change PR #%s for %s", opened.number, outcome.spec)

    def _summary(self, outcome: RunOutcome, location: str) -> EvaluationSummary:
        """The run's summary; when it is unreadable, its PR is told before the error leaves."""
        try:
            summary = parse_summary(self.blobs.read_bytes(location), location)
            if summary.spec != outcome.spec:  # the spec names files and branches: trust labels
                raise SummaryError(
                    f"{location}: the summary is for spec {summary.spec[:80]!r}, "
                    f"the run for {outcome.spec!r}"
                )
        except SummaryError as exc:
            plan = after_unreadable(outcome)
            if plan.pr is not None:
                marker = comment_marker(outcome.spec, plan.pr)
                text = render_unreadable(outcome, str(exc), marker)
                self.host.upsert_comment(plan.pr, marker, text)
            if plan.notice:
                what = "the run finished but its evaluation summary cannot be read"
                self.notices.report(_problem(outcome, what, str(exc)))
            raise
        return summary

    def _carry_out(
        self,
        plan: CompletionPlan,
        outcome: RunOutcome,
        summary: EvaluationSummary,
        comparison: Comparison,
        points: list[HistoryPoint],
        location: str,
    ) -> CompletionResult:
        pr, reason = plan.pr, plan.reason
        if plan.promotion is not None:
            model = summary.candidate.pushed_uri or summary.candidate.uri
            # Each spec pushes under its own directory (pipelines/compile.py `serving_dir`):
            # a run of one spec never proposes another spec's served model.
            root = f"{self.serving_root.rstrip('/')}/{outcome.spec}"
            if self.serving_root and not is_under(model, root):
                raise SummaryError(
                    f"{location}: candidate model {model[:200]!r} is not under the serving root"
                    f" of {outcome.spec}, {root}; no promotion is proposed"
                )
            opened = self.host.open_or_update_promotion(plan.promotion)
            if opened is None:
                version = plan.promotion.version
                return CompletionResult(
                    "skipped", f"{version} is already recorded", None, comparison
                )
            pr = opened.number
            reason = f"{'opened' if opened.created else 'updated'} {plan.reason}"
        if pr is not None:
            marker = comment_marker(outcome.spec, pr)
            report = Report(
                comparison=comparison,
                summary=summary,
                links=links_for(summary, outcome.console_url, location),
                marker=marker,
                history=points,
            )
            self.host.upsert_comment(pr, marker, render_comparison(report))
        return CompletionResult(plan.action, reason, pr, comparison)

    def _history_for(self, outcome: RunOutcome) -> MetricHistory:
        if self.history is not None:
            return self.history
        root = self.history_root or f"{outcome.pipeline_root.rstrip('/')}/history"
        return BlobHistory(self.blobs, root)


def _problem(outcome: RunOutcome, summary: str, error: str) -> Incident:
    return Incident(
        spec=outcome.spec,
        kind="run_failed",
        summary=summary,
        component=outcome.failed_task,
        error=error,
        job_id=outcome.job_id,
        trigger=outcome.trigger,
        event_id=outcome.event_id,
    )
