"""From a finished run to a PR comment or a promotion PR: the CompletionSink of on_run_complete.

    outcome ─► failed/cancelled ─► comment on its PR (pull_request runs)
            └► succeeded ─► read summary ─► record history ─► compare ─► render
                 ├► pull_request run ─► upsert the comment on that PR
                 └► data_arrival / drift / schedule run, blessed by TFX
                      ─► open or update the spec's promotion PR, then upsert the comment there

Everything with I/O sits behind a port: the code host (GitHub or local files), the blob
store (local paths or gs://) and the metric history. `default_sink()` builds the real ones
from the environment; tests pass fakes to `CompletionHandler`.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from retrain.codehost.port import CodeHost, PromotionRequest
from retrain.compare import Comparison, compare
from retrain.errors import BackendError, ConfigError, RetrainError, SummaryError, TransientError
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
from retrain.report.escape import code
from retrain.report.history import HistoryFile, merged
from retrain.runs import RunOutcome
from retrain.summary import EvaluationSummary, parse_summary, summary_path

log = logging.getLogger(__name__)

PROMOTING_TRIGGERS = ("data_arrival", "drift", "schedule")
HISTORY_RUNS = 10
Action = Literal["commented", "promoted", "skipped"]


# -- blob store: local paths and gs:// ------------------------------------------------------


class BlobStore(Protocol):
    def read_bytes(self, uri: str) -> bytes:
        """The object's bytes; SummaryError if it does not exist."""
        ...

    def write_bytes(self, uri: str, data: bytes) -> None: ...


class Blobs:
    """Local paths directly; gs:// through google-cloud-storage, imported on first use."""

    def __init__(self, gcs_client: Any = None) -> None:
        self._gcs = gcs_client

    def _client(self) -> Any:
        if self._gcs is None:
            try:
                storage: Any = importlib.import_module("google.cloud.storage")
            except ImportError as exc:
                raise BackendError(
                    "reading gs:// needs google-cloud-storage, which is not installed here"
                ) from exc
            self._gcs = storage.Client()
        return self._gcs

    def _blob(self, uri: str) -> Any:
        bucket, _, name = uri.removeprefix("gs://").partition("/")
        if not bucket or not name:
            raise SummaryError(f"{uri}: not a gs://BUCKET/OBJECT address")
        return self._client().bucket(bucket).blob(name)

    def read_bytes(self, uri: str) -> bytes:
        if not uri.startswith("gs://"):
            try:
                return Path(uri).read_bytes()
            except FileNotFoundError as exc:
                raise SummaryError(f"{uri}: not found") from exc
            except OSError as exc:
                raise SummaryError(f"{uri}: cannot read: {exc}") from exc
        try:
            data: bytes = self._blob(uri).download_as_bytes()
            return data
        except RetrainError:
            raise
        except Exception as exc:
            raise _gcs_error(uri, exc) from exc

    def write_bytes(self, uri: str, data: bytes) -> None:
        if not uri.startswith("gs://"):
            path = Path(uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            return
        try:
            self._blob(uri).upload_from_string(data, content_type="application/json")
        except RetrainError:
            raise
        except Exception as exc:
            raise _gcs_error(uri, exc) from exc


def _gcs_error(uri: str, exc: Exception) -> RetrainError:
    """google.api_core errors by status code, without importing google at module load."""
    status = getattr(exc, "code", None)
    if status == 404:
        return SummaryError(f"{uri}: not found")
    if status in (403, 401):
        return BackendError(f"{uri}: access denied ({type(exc).__name__})")
    return TransientError(f"{uri}: {type(exc).__name__}: {exc}")


# -- metric history kept next to the run's files -------------------------------------------


class BlobHistory:
    """One small JSON document per spec under `root` (a directory or a gs:// prefix).

    Two runs of one spec finishing at the same instant may race and lose a point; the
    history only feeds a chart, and the next run restores the trend.
    """

    def __init__(self, blobs: BlobStore, root: str) -> None:
        self.blobs = blobs
        self.root = root.rstrip("/")

    def _uri(self, spec: str) -> str:
        return f"{self.root}/{spec}.json"

    def _load(self, spec: str) -> list[HistoryPoint]:
        try:
            raw = self.blobs.read_bytes(self._uri(spec))
        except SummaryError:
            return []
        try:
            return HistoryFile.model_validate_json(raw).points
        except ValidationError:
            log.warning("metric history %s is unreadable; starting it again", self._uri(spec))
            return []

    def record(self, spec: str, point: HistoryPoint) -> None:
        doc = HistoryFile(spec=spec, points=merged(self._load(spec), point))
        self.blobs.write_bytes(self._uri(spec), doc.model_dump_json(indent=1).encode())

    def recent(self, spec: str, limit: int) -> list[HistoryPoint]:
        return self._load(spec)[-limit:]


# -- the handler ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletionResult:
    """What the handler did, for logs and tests."""

    action: Action
    reason: str
    pr_number: int | None = None
    comparison: Comparison | None = None


@dataclass
class CompletionHandler:
    """Implements the event core's CompletionSink. Idempotent: a redelivery edits in place."""

    host: CodeHost
    blobs: BlobStore = field(default_factory=Blobs)
    history: MetricHistory | None = None  # default: BlobHistory under history_root
    history_root: str = ""  # default: <pipeline_root>/history
    specs_dir: str = "specs"
    base_branch: str = "main"

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
        pr = outcome.pr_number if outcome.trigger == "pull_request" else None
        if outcome.state != "succeeded":
            if pr is None:
                return CompletionResult("skipped", f"run {outcome.state}; no PR to comment on")
            marker = comment_marker(outcome.spec, pr)
            self.host.upsert_comment(pr, marker, render_unfinished(outcome, marker))
            return CompletionResult("commented", f"run {outcome.state}", pr)

        location = summary_path(outcome.pipeline_root, outcome.job_id)
        try:
            summary = parse_summary(self.blobs.read_bytes(location), location)
            if summary.spec != outcome.spec:  # the spec names files and branches: trust labels
                raise SummaryError(
                    f"{location}: the summary is for spec {summary.spec[:80]!r}, "
                    f"the run for {outcome.spec!r}"
                )
        except SummaryError as exc:
            if pr is not None:
                marker = comment_marker(outcome.spec, pr)
                self.host.upsert_comment(pr, marker, render_unreadable(outcome, str(exc), marker))
            raise

        history = self._history_for(outcome)
        history.record(summary.spec, point_from(summary))
        points = history.recent(summary.spec, HISTORY_RUNS)
        comparison = compare(summary)

        if pr is not None:
            self._comment(pr, outcome, summary, comparison, points, location)
            return CompletionResult("commented", comparison.verdict, pr, comparison)
        if outcome.trigger not in PROMOTING_TRIGGERS:
            return CompletionResult(
                "skipped", f"{outcome.trigger} runs are not promoted", None, comparison
            )
        if not summary.blessed:
            return CompletionResult("skipped", "TFX did not bless the candidate", None, comparison)
        proposal = self._proposal(outcome, summary, comparison)
        opened = self.host.open_or_update_promotion(proposal)
        if opened is None:
            return CompletionResult(
                "skipped", f"{proposal.version} is already recorded", None, comparison
            )
        self._comment(opened.number, outcome, summary, comparison, points, location)
        verb = "opened" if opened.created else "updated"
        return CompletionResult("promoted", f"{verb} promotion PR", opened.number, comparison)

    def _history_for(self, outcome: RunOutcome) -> MetricHistory:
        if self.history is not None:
            return self.history
        root = self.history_root or f"{outcome.pipeline_root.rstrip('/')}/history"
        return BlobHistory(self.blobs, root)

    def _comment(
        self,
        pr: int,
        outcome: RunOutcome,
        summary: EvaluationSummary,
        comparison: Comparison,
        points: list[HistoryPoint],
        location: str,
    ) -> None:
        marker = comment_marker(outcome.spec, pr)
        report = Report(
            comparison=comparison,
            summary=summary,
            links=links_for(summary, outcome.console_url, location),
            marker=marker,
            history=points,
        )
        self.host.upsert_comment(pr, marker, render_comparison(report))

    def _proposal(
        self, outcome: RunOutcome, summary: EvaluationSummary, comparison: Comparison
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
            spec_path=f"{self.specs_dir.rstrip('/')}/{summary.spec}.yaml",
            version=outcome.job_id,
            title=f"Promote {summary.spec} to {outcome.job_id}",
            body="\n".join(lines),
            base=self.base_branch,
            labels=labels,
        )


# -- wiring from the environment ----------------------------------------------------------


class CompletionSettings(BaseModel):
    """RETRAIN_* variables this module reads (RETRAIN_WORKDIR and _SPECS_DIR are shared)."""

    model_config = ConfigDict(frozen=True)

    codehost: Literal["github", "local"]
    workdir: Path = Path("work")
    repo_root: Path = Path(".")
    specs_dir: str = "specs"
    base_branch: str = "main"
    history_uri: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CompletionSettings:
        has_repo = bool(env.get("RETRAIN_GITHUB_REPO") or env.get("GITHUB_REPOSITORY"))
        raw = {
            "codehost": env.get("RETRAIN_CODEHOST") or ("github" if has_repo else "local"),
            "workdir": env.get("RETRAIN_WORKDIR") or "work",
            "repo_root": env.get("RETRAIN_REPO_ROOT") or ".",
            "specs_dir": env.get("RETRAIN_SPECS_DIR") or "specs",
            "base_branch": env.get("RETRAIN_BASE_BRANCH") or "main",
            "history_uri": env.get("RETRAIN_HISTORY_URI", ""),
        }
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"RETRAIN_{str(first['loc'][0]).upper()}: {first['msg']}") from None


def build_codehost(settings: CompletionSettings, env: Mapping[str, str]) -> CodeHost:
    if settings.codehost == "local":
        from retrain.codehost.local import LocalCodeHost

        return LocalCodeHost(settings.workdir, settings.repo_root, sys.stdout)
    from retrain.codehost.github import GitHubCodeHost, GitHubSettings, build_client

    github = GitHubSettings.from_env(env)
    return GitHubCodeHost(build_client(github), github.repo, github.bot_login)


def default_sink(env: Mapping[str, str] | None = None) -> CompletionHandler:
    """The real sink, from the environment. Builds clients but sends nothing yet."""
    env = os.environ if env is None else env
    settings = CompletionSettings.from_env(env)
    specs_dir = settings.specs_dir
    if Path(specs_dir).is_absolute():
        try:
            specs_dir = str(Path(specs_dir).relative_to(settings.repo_root.resolve()))
        except ValueError:
            specs_dir = "specs"
    return CompletionHandler(
        host=build_codehost(settings, env),
        history_root=settings.history_uri,
        specs_dir=specs_dir,
        base_branch=settings.base_branch,
    )
