"""Schedule sync: spec crons -> Cloud Scheduler jobs; foreign jobs untouched."""

from __future__ import annotations

import base64
import io
import json

from retrain.data.samples import example_spec_files
from retrain.delivery.apply import Ports, apply
from retrain.delivery.schedules import (
    ScheduleJob,
    action_argv,
    desired_jobs,
    parse_existing,
    plan_sync,
    read_schedules,
    schedules_plan,
)
from retrain.spec import load_spec
from tests.fakes.runner import RecordingRunner

from .helpers import REPO, SHA, config

SPECS = [load_spec(p) for p in example_spec_files(REPO / "specs")]  # not a user's own


def _listing(jobs: list[ScheduleJob], extra: list[dict[str, object]]) -> str:
    items: list[dict[str, object]] = [
        {
            "name": f"projects/acme-prod/locations/us-central1/jobs/{j.name}",
            "schedule": j.schedule,
            "timeZone": j.time_zone,
            "pubsubTarget": {"data": base64.b64encode(j.body.encode()).decode()},
        }
        for j in jobs
    ]
    return json.dumps(items + extra)


def test_only_specs_with_a_schedule_get_a_job() -> None:
    jobs = desired_jobs(SPECS, config())
    scheduled = sorted(s.name for s in SPECS if s.triggers.schedule)
    assert sorted(jobs) == [f"retrain-schedule-{n}" for n in scheduled]
    body = json.loads(next(iter(jobs.values())).body)
    assert body["git_sha"] == SHA and body["spec"] in scheduled


def test_sync_creates_updates_deletes_and_leaves_foreign_jobs() -> None:
    desired = desired_jobs(SPECS, config())
    name, job = next(iter(desired.items()))
    stale = ScheduleJob("retrain-schedule-gone", "0 1 * * *", "Etc/UTC", "{}")
    foreign: dict[str, object] = {
        "name": "projects/acme-prod/locations/us-central1/jobs/nightly-etl",
        "schedule": "0 2 * * *",
    }
    existing = parse_existing(_listing([job, stale], [foreign]))
    assert sorted(existing) == sorted([name, "retrain-schedule-gone"])
    assert [(a.verb, a.job.name) for a in plan_sync(desired, existing)] == [
        ("delete", "retrain-schedule-gone")
    ]
    moved = {name: ScheduleJob(name, "0 6 * * 1", job.time_zone, job.body)}
    assert [(a.verb, a.job.name) for a in plan_sync(moved, existing)] == [
        ("update", name),
        ("delete", "retrain-schedule-gone"),
    ]


def test_sync_runs_the_commands_from_the_listing() -> None:
    runner = RecordingRunner(answer=lambda argv: "[]" if "list" in argv else "")
    plan, actions = schedules_plan(SPECS, config(), read_schedules(config(), runner))
    apply(plan, Ports(runner), echo=io.StringIO())
    assert [a.verb for a in actions] == ["create"] * len(desired_jobs(SPECS, config()))
    create = runner.commands[1]
    assert create[:5] == ["gcloud", "scheduler", "jobs", "create", "pubsub"]
    assert "--topic=retrain-schedule" in create
    delete = action_argv(
        plan_sync({}, {"retrain-schedule-x": ScheduleJob("retrain-schedule-x", "", "", "")})[0],
        config(),
    )
    assert delete[:4] == ["gcloud", "scheduler", "jobs", "delete"] and "--quiet" in delete
