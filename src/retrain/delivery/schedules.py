"""Spec `triggers.schedule` -> Cloud Scheduler jobs, synced: create, update, delete.

Each cron spec gets a job `retrain-schedule-<spec>` publishing a tick to the `retrain-schedule`
topic: `{"spec", "schedule", "git_sha"}` with attribute `retrain-spec`, which `on_schedule`
consumes. The tick goes through Pub/Sub (not straight to Vertex) so the router can give the run
a deterministic job id from the tick's publish time, like every other run, and the completion
handler finds its summary.
Jobs with our prefix whose spec lost its schedule (or was deleted) are removed; other jobs in
the location are never touched.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from retrain.delivery import names
from retrain.delivery.config import DeployConfig
from retrain.delivery.plan import DeliveryPlan, Run
from retrain.errors import BackendError
from retrain.shell import Runner
from retrain.spec.model import Spec


@dataclass(frozen=True)
class ScheduleJob:
    name: str  # short job id
    schedule: str
    time_zone: str
    body: str  # the message published on each tick


@dataclass(frozen=True)
class ScheduleAction:
    verb: str  # create | update | delete
    job: ScheduleJob


def desired_jobs(specs: list[Spec], config: DeployConfig) -> dict[str, ScheduleJob]:
    jobs = {}
    for spec in specs:
        cron = spec.triggers.schedule
        if cron is None:
            continue
        body = json.dumps(
            {"spec": spec.name, "schedule": cron, "git_sha": config.git_sha}, sort_keys=True
        )
        name = names.SCHEDULE_JOB_PREFIX + spec.name
        jobs[name] = ScheduleJob(name, cron, config.time_zone, body)
    return jobs


def parse_existing(listing: str) -> dict[str, ScheduleJob]:
    """`gcloud scheduler jobs list --format=json` -> our jobs (other jobs are left out)."""
    if not listing.strip():
        return {}
    try:
        raw: Any = json.loads(listing)
    except json.JSONDecodeError as exc:
        raise BackendError(f"cannot read the Cloud Scheduler job list: {exc}") from exc
    jobs = {}
    for item in raw if isinstance(raw, list) else []:
        name = str(item.get("name", "")).rsplit("/", 1)[-1]
        if not name.startswith(names.SCHEDULE_JOB_PREFIX):
            continue
        data = (item.get("pubsubTarget") or {}).get("data", "")
        body = base64.b64decode(data).decode() if data else ""
        jobs[name] = ScheduleJob(
            name, str(item.get("schedule", "")), str(item.get("timeZone", "")), body
        )
    return jobs


def plan_sync(
    desired: dict[str, ScheduleJob], existing: dict[str, ScheduleJob]
) -> list[ScheduleAction]:
    actions = []
    for name in sorted(desired):
        if name not in existing:
            actions.append(ScheduleAction("create", desired[name]))
        elif existing[name] != desired[name]:
            actions.append(ScheduleAction("update", desired[name]))
    actions += [ScheduleAction("delete", existing[n]) for n in sorted(existing) if n not in desired]
    return actions


def list_argv(config: DeployConfig) -> list[str]:
    return ["gcloud", "scheduler", "jobs", "list", f"--project={config.project}",
            f"--location={config.region}", "--format=json"]  # fmt: skip


def action_argv(action: ScheduleAction, config: DeployConfig) -> list[str]:
    job = action.job
    where = [f"--project={config.project}", f"--location={config.region}"]
    if action.verb == "delete":
        return ["gcloud", "scheduler", "jobs", "delete", job.name, *where, "--quiet"]
    spec = job.name.removeprefix(names.SCHEDULE_JOB_PREFIX)
    attributes = "--attributes" if action.verb == "create" else "--update-attributes"
    return [
        "gcloud", "scheduler", "jobs", action.verb, "pubsub", job.name, *where,
        f"--schedule={job.schedule}",
        f"--time-zone={job.time_zone}",
        f"--topic={names.SCHEDULE_TOPIC}",
        f"--message-body={job.body}",
        f"{attributes}=retrain-spec={spec}",
    ]  # fmt: skip


def read_schedules(config: DeployConfig, runner: Runner) -> dict[str, ScheduleJob]:
    """Our jobs as Cloud Scheduler has them now (gcloud: no Scheduler client is installed)."""
    return parse_existing(runner.run(list_argv(config)))


def schedules_plan(
    specs: list[Spec], config: DeployConfig, existing: dict[str, ScheduleJob]
) -> tuple[DeliveryPlan, list[ScheduleAction]]:
    """The commands that bring `existing` to what the specs ask for, and the changes they make."""
    actions = plan_sync(desired_jobs(specs, config), existing)
    return DeliveryPlan(tuple(Run(tuple(action_argv(a, config))) for a in actions)), actions
