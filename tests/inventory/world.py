"""A local work directory in the demo's layout, written by the producers the service uses
(job labels from RunRequest, decisions through StdoutLog, the promotion PR through the local
code host, the history through BlobHistory, the spec edit through set_promotion_version), and
a git repository whose history promotes one run by a merged PR."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from retrain.blobs import Blobs
from retrain.codehost.local import LocalCodeHost, LocalPull
from retrain.codehost.port import PromotionRequest
from retrain.completion.history import BlobHistory
from retrain.completion.notices import Notices
from retrain.demo.review import init_repository, merge_promotion
from retrain.report.history import point_from
from retrain.report.notice import Incident
from retrain.routing.decision import Decision, StdoutLog
from retrain.runs import LocalLayout, RunRequest
from retrain.summary import (
    EvaluationSummary,
    Interval,
    Lineage,
    ModelRef,
    dump_summary,
    summary_path,
)
from tests.fakes.summaries import load

REPO_SPECS = Path(__file__).resolve().parents[2] / "specs"
BASELINE_JOB = "churn-c35a1e040dfd-data-1763600000"
PROMOTED_JOB = "churn-c35a1e040dfd-data-1763686400"
PR_JOB = "churn-9d1e2f3a4b5c-pr-41-de70c0ffee5e"
EVENT = "1812000000000001"
HELD_EVENT = "1812000000000002"
SHA = "de70c0ffee5eed0000000000000000000000beef"
HOSTILE_TITLE = 'churn: <script>alert("x")</script> & friends'


@dataclass
class World:
    root: Path
    runs: Path = field(init=False)
    logs: Path = field(init=False)
    repo: Path = field(init=False)

    def __post_init__(self) -> None:
        self.runs = self.root / "runs"
        self.logs = self.root / "logs"
        self.repo = self.root / "repo"


@contextmanager
def _commit_date(when: str) -> Iterator[None]:
    """Git reads its dates from the environment: commits made inside get this one."""
    names = ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE")
    before = {n: os.environ.get(n) for n in names}
    os.environ.update(dict.fromkeys(names, when))
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _job(world: World, request: RunRequest, state: str, error: str = "") -> str:
    root = str(LocalLayout(workdir=world.runs, spec=request.spec).pipeline_root)
    job_dir = world.runs / "_jobs" / request.job_id
    job_dir.mkdir(parents=True)
    # the fields LocalBackend.submit and its watcher write
    record = {
        "job_id": request.job_id,
        "spec": request.spec,
        "state": state,
        "labels": request.labels(),
        "pipeline_root": root,
        "pid": 0,
        "error": error,
    }
    (job_dir / "job.json").write_text(json.dumps(record))
    return root


def _summary(base: EvaluationSummary, job_id: str, root: str, finished: str) -> EvaluationSummary:
    run = base.run.model_copy(
        update={
            "run_id": job_id,
            "pipeline_root": root,
            "finished_at": finished,
            "orchestrator": "local",
        }
    )
    return base.model_copy(update={"run": run})


def build(root: Path) -> World:
    world = World(root)
    blobs = Blobs()
    # the runs: the first (later the baseline), the promoted one, a failed PR run
    first = RunRequest(job_id=BASELINE_JOB, spec="churn", spec_version="c35a1e040dfd",
                       trigger="data_arrival", git_sha=SHA, event_id="1811")  # fmt: skip
    promoted = RunRequest(job_id=PROMOTED_JOB, spec="churn", spec_version="c35a1e040dfd",
                          trigger="data_arrival", git_sha=SHA, event_id=EVENT,
                          data_window="2026-11-21T00:00:00Z/2026-11-21T01:00:00Z")  # fmt: skip
    pr_run = RunRequest(job_id=PR_JOB, spec="churn", spec_version="9d1e2f3a4b5c",
                        trigger="pull_request", git_sha=SHA, pr_number=41)  # fmt: skip
    root_dir = _job(world, first, "PIPELINE_STATE_SUCCEEDED")
    _job(world, promoted, "PIPELINE_STATE_SUCCEEDED")
    _job(world, pr_run, "PIPELINE_STATE_FAILED", "exit 1: Trainer failed")
    base = _summary(load("churn_first_run"), BASELINE_JOB, root_dir, "2026-11-20T01:10:00Z")
    base = base.model_copy(update={"candidate": ModelRef(uri=f"{root_dir}/Trainer/model/6")})
    passing = _summary(load("churn_pass"), PROMOTED_JOB, root_dir, "2026-11-21T01:12:00Z")
    passing = passing.model_copy(
        update={
            "run": passing.run.model_copy(update={"data_window": promoted.data_window}),
            "baseline": ModelRef(uri=f"{root_dir}/Trainer/model/6"),
            "lineage": Lineage(
                data_snapshot="2026-11-21T01:00:00Z",
                data_rows=4000,
                data_hash="ab" * 32,
                schema_file="specs/churn.schema.pbtxt",
                schema_blob="cd" * 20,
                baseline_version=BASELINE_JOB,
            ),
        }
    )
    # version 4: the promoted run's overall figures came with their intervals
    passing = passing.model_copy(
        update={
            "metrics": [
                m.model_copy(
                    update={
                        "candidate_interval": Interval(
                            low=(m.candidate or 0) - 0.012, high=(m.candidate or 0) + 0.011
                        )
                    }
                )
                if not m.slice
                else m
                for m in passing.metrics
            ]
        }
    )
    history = BlobHistory(blobs, f"{root_dir}/history")
    for summary in (base, passing):
        blobs.write_bytes(
            summary_path(root_dir, summary.run.run_id), dump_summary(summary).encode()
        )
        history.record("churn", point_from(summary))

    # the repository: specs committed, then the promotion PR merged
    specs = world.repo / "specs"
    specs.mkdir(parents=True)
    for name in ("churn.yaml", "house-prices.yaml"):
        shutil.copy(REPO_SPECS / name, specs / name)
    with _commit_date("2026-11-21T09:30:00Z"):
        init_repository(world.repo)
        host = LocalCodeHost(world.runs, world.repo, out=io.StringIO())
        opened = host.open_or_update_promotion(
            PromotionRequest(
                spec="churn",
                spec_path="specs/churn.yaml",
                version=PROMOTED_JOB,
                title=f"Promote churn to {PROMOTED_JOB}",
                body="comparison below",
            )
        )
        assert opened is not None
        merge_promotion(world.repo, world.runs / "codehost" / f"pr-{opened.number}")
    hostile = LocalPull(number=41, title=HOSTILE_TITLE, body="", head="tune/churn-hidden-units",
                        base="main", labels=["retrain"])  # fmt: skip
    (world.runs / "codehost" / "pr-41").mkdir(parents=True)
    (world.runs / "codehost" / "pr-41" / "pull.json").write_text(hostile.model_dump_json())

    # failure notices as the service files them: churn's is open, house-prices' was closed
    notices = Notices(LocalCodeHost(world.runs, world.repo, out=io.StringIO()), lambda _: "")
    notices.report(Incident(spec="churn", kind="run_failed", summary="Trainer failed",
                           job_id=PR_JOB, trigger="pull_request"))  # fmt: skip
    notices.report(Incident(spec="house-prices", kind="stale", summary="no success for 30d"))
    notices.resolve("house-prices", "house-prices-job-9")

    # the decisions the functions logged
    world.logs.mkdir()
    with (world.logs / "on_data_arrival.log").open("w") as stream:
        stream.write("INFO starting functions framework\n")
        log = StdoutLog(stream)
        for decision in (
            Decision(decision="run", event="data_arrival", event_id=EVENT, spec="churn",
                     job_id=PROMOTED_JOB, reason="612 new rows >= 500", event_key="job-1"),
            Decision(decision="deduplicated", event="data_arrival", event_id=EVENT, spec="churn",
                     job_id=PROMOTED_JOB, reason=f"job {PROMOTED_JOB} already exists (churn)",
                     event_key="job-1"),
            Decision(decision="debounced", event="data_arrival", event_id=HELD_EVENT, spec="churn",
                     reason="120 new rows, 120 pending < min_new_rows 500", event_key="job-2"),
        ):  # fmt: skip
            log.record(decision)
    return world
