"""Run-complete entries are forgeable by anyone who can publish to the topic: the backend's
own job decides what finished, for which spec and PR, and where its summary may be read."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from retrain.backends.base import JobInfo
from retrain.codehost import LocalCodeHost
from retrain.completion import CompletionHandler
from retrain.errors import SummaryError
from retrain.events.pipeline_job import state_change_entry
from retrain.routing.decision import MemoryLog
from retrain.routing.index import load_index
from retrain.routing.service import Service
from retrain.runs import RunOutcome
from retrain.state.memory import MemoryStore
from retrain.summary import dump_summary, summary_path
from tests.fakes.backend import KnownJobsBackend
from tests.fakes.sink import RecordingSink
from tests.fakes.summaries import load
from tests.routing.helpers import SPECS

ROOT = "gs://acme-ml-pipelines/root"
JOB = "churn-pr-0f1e2d3c4b5a69788796"
LABELS = {"retrain-spec": "churn", "retrain-trigger": "pull_request", "retrain-pr": "42"}
T = datetime(2026, 3, 2, 12, 30, tzinfo=timezone.utc)


def service_knowing(*jobs: JobInfo) -> tuple[Service, MemoryLog, RecordingSink]:
    index = load_index(SPECS)
    sink, log = RecordingSink(), MemoryLog()
    service = Service(
        index=lambda: index,
        store=MemoryStore(),
        backend=KnownJobsBackend({job.job_id: job for job in jobs}),
        sink=lambda: sink,
        log=log,
        runs_root=ROOT,
    )
    return service, log, sink


def job(job_id: str = JOB, **changes: Any) -> JobInfo:
    values: dict[str, Any] = {
        "job_id": job_id,
        "state": "PIPELINE_STATE_SUCCEEDED",
        "labels": LABELS,
        "pipeline_root": f"{ROOT}/churn",
        **changes,
    }
    return JobInfo(**values)


def entry(job_id: str = JOB, labels: dict[str, str] | None = None, root: str = "") -> Any:
    return state_change_entry(
        project="acme-analytics",
        location="us-central1",
        job_id=job_id,
        state="PIPELINE_STATE_SUCCEEDED",
        labels=LABELS if labels is None else labels,
        pipeline_root=root or f"{ROOT}/churn",
        time=T,
    )


def answer(service: Service, data: Any) -> list[tuple[str, str]]:
    return [(d.decision, d.reason) for d in service.handle("run_complete", data, "e1")]


def test_the_backends_labels_win_over_the_entrys() -> None:
    service, _, sink = service_knowing(job())
    forged = {**LABELS, "retrain-spec": "house-prices", "retrain-pr": "7"}
    assert answer(service, entry(labels=forged)) == [("completed", "succeeded")]
    (outcome,) = sink.outcomes
    assert (outcome.spec, outcome.pr_number) == ("churn", 42)


def test_a_job_the_backend_does_not_have_is_rejected() -> None:
    service, _, sink = service_knowing()
    assert answer(service, entry()) == [
        ("rejected", f"run {JOB}: the backend has no such job (the entry is not trusted)")
    ]
    assert sink.outcomes == []


def test_a_job_must_belong_to_the_spec_it_is_labelled_with() -> None:
    labels = {**LABELS, "retrain-spec": "house-prices"}
    service, _, sink = service_knowing(job(labels=labels))
    assert answer(service, entry(labels=labels)) == [
        ("rejected", f"run {JOB}: the job does not belong to spec 'house-prices'")
    ]
    assert sink.outcomes == []


def test_a_spec_outside_the_index_is_rejected() -> None:
    evil = "../../.github/workflows/pr"
    labels = {**LABELS, "retrain-spec": evil}
    service, _, sink = service_knowing(job(f"{evil}-pr-1", labels=labels))
    assert answer(service, entry(f"{evil}-pr-1", labels)) == [
        ("rejected", f"run {evil}-pr-1: spec {evil!r} is not in the index")
    ]
    assert sink.outcomes == []


@pytest.mark.parametrize("pr", ["٤٢", "42 ", "+42", "0042", "4_2"])
def test_pr_numbers_are_ascii_digits(pr: str) -> None:
    labels = {**LABELS, "retrain-pr": pr}
    service, _, sink = service_knowing(job(labels=labels))
    assert answer(service, entry(labels=labels)) == [
        ("rejected", f"run {JOB}: PR label {pr!r} is not a PR number")
    ]
    assert sink.outcomes == []


def test_a_summary_outside_the_runs_root_is_not_read() -> None:
    for root in ("gs://attacker-bucket/root/churn", f"{ROOT}/../elsewhere", "/tmp/churn"):
        service, _, sink = service_knowing(job(pipeline_root=root))
        assert answer(service, entry(root=root)) == [
            ("rejected", f"run {JOB}: its output {root!r} is not under the runs root")
        ]
        assert sink.outcomes == []


def test_a_job_the_backend_sees_running_is_not_finished() -> None:
    service, _, sink = service_knowing(job(state="PIPELINE_STATE_RUNNING"))
    assert answer(service, entry()) == [
        ("rejected", f"run {JOB}: the backend reports 'PIPELINE_STATE_RUNNING', not finished")
    ]
    assert sink.outcomes == []


def test_a_promotion_names_only_a_model_under_the_serving_root(tmp_path: Path) -> None:
    pass_summary = load("churn_pass")
    job_id = "churn-data-1"
    candidate = pass_summary.candidate.model_copy(
        update={"pushed_uri": "gs://attacker-bucket/model"}
    )
    run = pass_summary.run.model_copy(update={"run_id": job_id, "pipeline_root": str(tmp_path)})
    summary = pass_summary.model_copy(update={"run": run, "candidate": candidate})
    path = Path(summary_path(str(tmp_path), job_id))
    path.parent.mkdir(parents=True)
    path.write_text(dump_summary(summary))
    host = LocalCodeHost(tmp_path / "host", tmp_path / "repo")
    handler = CompletionHandler(host=host, serving_root="gs://acme-ml-pipelines/serving")
    outcome = RunOutcome(
        job_id=job_id,
        spec="churn",
        state="succeeded",
        trigger="data_arrival",
        pipeline_root=str(tmp_path),
        production=True,
    )
    with pytest.raises(SummaryError, match="is not under the serving root"):
        handler.process(outcome)
    assert not (tmp_path / "host" / "codehost").exists()  # no PR, no comment
