"""Bring one spec's recorded facts together: git, run backend, blob store, code host, logs, state.

Every read that fails becomes a line in `problems` (naming the source) instead of an error, so
one unreachable source leaves the others readable; the reports print those lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from retrain.backends.base import JobInfo
from retrain.blobs import BlobStore
from retrain.completion.history import BlobHistory
from retrain.errors import RetrainError, SummaryError
from retrain.inventory.model import Decided, Notice, Production, Pull, Run, SpecCommit
from retrain.inventory.sources import (
    DecisionReader,
    PullReader,
    RunLister,
    SpecHistory,
    StateReader,
)
from retrain.report.history import KEEP, HistoryPoint
from retrain.spec import Spec
from retrain.state.base import SpecState
from retrain.summary import parse_summary, summary_path

T = TypeVar("T")
SUCCEEDED = "PIPELINE_STATE_SUCCEEDED"
_MERGE_PR = re.compile(r"(?:Merge pull request #(\d+)|\(#(\d+)\)$)")


@dataclass
class Sources:
    """Where the facts are; `retrain.wiring.build_inventory` fills it for a place."""

    specs: list[Spec]
    specs_dir_in_repo: str
    runs: RunLister
    blobs: BlobStore
    pulls: PullReader
    decisions: DecisionReader
    git: SpecHistory
    state: StateReader
    history_uri: str = ""
    place: str = ""
    notes: list[str] = field(default_factory=list)


class ModelFacts(BaseModel):
    """Everything recorded about one spec, newest first where there is an order."""

    model_config = ConfigDict(frozen=True)

    spec: Spec
    production: Production
    runs: list[Run]
    history: list[HistoryPoint]
    pulls: list[Pull]
    notices: list[Notice] = Field(default_factory=list, description="Open failure notices.")
    decisions: list[Decided]
    pending: SpecState | None = None
    problems: list[str] = Field(default_factory=list)

    def run(self, job_id: str) -> Run | None:
        return next((r for r in self.runs if r.job_id == job_id), None)


class Inventory(BaseModel):
    model_config = ConfigDict(frozen=True)

    place: str
    notes: list[str]
    models: list[ModelFacts]
    decisions: list[Decided] = Field(description="Every decision read, newest first.")
    problems: list[str] = Field(default_factory=list)

    def model(self, name: str) -> ModelFacts | None:
        return next((m for m in self.models if m.spec.name == name), None)


def gather(sources: Sources, only: str | None = None) -> Inventory:
    problems: list[str] = []
    decisions = _attempt(problems, "decision log", sources.decisions.decisions) or []
    read = _attempt(problems, "code host", sources.pulls.pulls)
    notices: list[Notice] = []
    if read is not None:  # an unreachable code host is said once, for the pull requests
        notices = _attempt(problems, "code host notices", sources.pulls.notices) or []
    pulls = read or []
    newest_first = list(reversed(decisions))
    models = [
        _model(sources, spec, pulls, newest_first).model_copy(
            update={"notices": [n for n in notices if n.spec == spec.name]}
        )
        for spec in sources.specs
        if only is None or spec.name == only
    ]
    return Inventory(
        place=sources.place,
        notes=sources.notes,
        models=models,
        decisions=newest_first,
        problems=problems,
    )


def _attempt(problems: list[str], what: str, read: Callable[[], T]) -> T | None:
    try:
        return read()
    except RetrainError as exc:
        problems.append(f"{what}: {exc}")
        return None


def _model(sources: Sources, spec: Spec, pulls: list[Pull], decisions: list[Decided]) -> ModelFacts:
    problems: list[str] = []
    path = f"{sources.specs_dir_in_repo.rstrip('/')}/{spec.name}.yaml"
    production = production_of(spec, path, sources.git, problems)
    jobs = _attempt(problems, "run backend", lambda: sources.runs.jobs(spec.name)) or []
    runs = sorted(
        (_run(spec.name, job, sources.blobs) for job in jobs),
        key=lambda r: (r.finished_at or "~", r.job_id),  # unfinished ('~') sort as newest
        reverse=True,
    )
    history = _history(sources, spec.name, runs, problems)
    pr_numbers = {
        r.pr_number for r in runs if r.pr_number is not None and r.trigger == "pull_request"
    }
    mine = [p for p in pulls if _concerns(p, spec.name, pr_numbers)]
    pending = _attempt(problems, "state store", lambda: sources.state.read(spec.name))
    return ModelFacts(
        spec=spec,
        production=production,
        runs=runs,
        history=history,
        pulls=sorted(mine, key=lambda p: p.number, reverse=True),
        decisions=[d for d in decisions if d.record.spec == spec.name],
        pending=pending,
        problems=problems,
    )


def _concerns(pull: Pull, spec: str, pr_numbers: set[int]) -> bool:
    """A PR belongs to a spec when a run of the spec was for it, or its branch is the service's
    branch for the spec (`retrain/<kind>-<spec>`)."""
    return pull.number in pr_numbers or (pull.services_branch and pull.head.endswith(f"-{spec}"))


def production_of(spec: Spec, path: str, git: SpecHistory, problems: list[str]) -> Production:
    """The version git's HEAD names, and the oldest commit of the unbroken run that names it
    (the commit that promoted it). Without git, the file as it is, said so."""
    promotion = spec.promotion
    base = {"spec": spec.name, "registry_model": promotion.registry_model, "alias": promotion.alias}
    try:
        commits = git.commits(path)
    except RetrainError as exc:
        problems.append(f"git: {exc}; the version is read from the spec file, its date is unknown")
        return Production(**base, version=promotion.version, source=f"{path} (file, not git)")
    if not commits:
        problems.append(f"git: {path} has no commit in {git.where()}")
        return Production(**base, version=promotion.version, source=f"{path} (file, not git)")
    version = commits[0].version
    promoted: SpecCommit | None = None
    for commit in commits:
        if commit.version != version:
            break
        promoted = commit
    return Production(
        **base,
        version=version,
        commit=promoted if version else None,
        source=f"{path} at {git.where()}",
    )


def pr_in_subject(subject: str) -> int | None:
    """The PR a merge or squash commit names ("Merge pull request #12 ..." or "... (#12)")."""
    match = _MERGE_PR.search(subject)
    return int(match[1] or match[2]) if match else None


def promotion_pull(facts: ModelFacts) -> Pull | None:
    """The PR that promoted the production version: named by the promoting commit, else the
    merged promotion PR whose title names the version."""
    version, commit = facts.production.version, facts.production.commit
    if not version:
        return None
    number = pr_in_subject(commit.subject) if commit else None
    for pull in facts.pulls:
        if number is not None and pull.number == number:
            return pull
    return next(
        (
            p
            for p in facts.pulls
            if p.kind == "promotion" and p.state == "merged" and p.title.endswith(f" {version}")
        ),
        None,
    )


def open_promotion(facts: ModelFacts) -> tuple[Pull, str] | None:
    """The open promotion PR and the version it proposes (its title: "Promote SPEC to V")."""
    pull = next((p for p in facts.pulls if p.kind == "promotion" and p.state == "open"), None)
    if pull is None:
        return None
    return pull, pull.title.rsplit(" ", 1)[-1]


def _run(spec: str, job: JobInfo, blobs: BlobStore) -> Run:
    labels = job.labels
    pr = labels.get("retrain-pr", "")
    summary, problem = None, ""
    if job.state == SUCCEEDED and job.pipeline_root:
        location = summary_path(job.pipeline_root, job.job_id)
        try:
            summary = parse_summary(blobs.read_bytes(location), location)
        except SummaryError as exc:
            problem = str(exc)
    return Run(
        job_id=job.job_id,
        spec=spec,
        state=job.state.removeprefix("PIPELINE_STATE_").lower(),
        trigger=labels.get("retrain-trigger", ""),
        event_id=labels.get("retrain-event", ""),
        git_sha=labels.get("retrain-git-sha", ""),
        pr_number=int(pr) if pr.isdigit() else None,
        spec_version=labels.get("retrain-spec-version", ""),
        pipeline_root=job.pipeline_root,
        error=job.error,
        summary=summary,
        summary_problem=problem,
    )


def _history(
    sources: Sources, spec: str, runs: list[Run], problems: list[str]
) -> list[HistoryPoint]:
    """The metric history the completion handler keeps (where it keeps it)."""
    root = sources.history_uri
    if not root:
        roots = [r.pipeline_root for r in runs if r.pipeline_root]
        if not roots:
            return []
        root = f"{roots[0].rstrip('/')}/history"
    try:
        return BlobHistory(sources.blobs, root).recent(spec, KEEP)
    except RetrainError as exc:
        problems.append(f"metric history under {root}: {exc}")
        return []
