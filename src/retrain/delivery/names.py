"""Names of the cloud resources, in one place: the deploy commands and the Terraform variables
(`retrain infra tfvars`) are both built from these, so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

from retrain.topics import DEAD_LETTER_TOPIC, TOPICS

# Service accounts (account ids; emails are <id>@<project>.iam.gserviceaccount.com).
FUNCTIONS_SA = "retrain-functions"  # runs the functions: submits PipelineJobs, reads GCS
PIPELINES_SA = "retrain-pipelines"  # runs PipelineJobs: BigQuery read, GCS write
TRIGGER_SA = "retrain-events"  # Eventarc/Pub/Sub push identity invoking the functions
DEPLOYER_SA = "retrain-deployer"  # Cloud Build on merge
BUILD_SA = "retrain-build"  # builds the functions' source (infra/iam.tf), not the default account
CANDIDATE_SA = "retrain-ci"  # GitHub Actions (Workload Identity Federation): candidate runs

# GitHub Actions: the one reusable workflow that runs candidates on Vertex, and the environments
# (protection rules: reviewers for forks) whose jobs may get the CI account's token.
CANDIDATE_WORKFLOW = ".github/workflows/candidate-run.yml"
CANDIDATE_ENVIRONMENT = "candidate-runs"  # pull requests from branches of the repository
FORK_CANDIDATE_ENVIRONMENT = "fork-candidate-runs"  # forks: a maintainer's label and approval

SCHEDULE_JOB_PREFIX = "retrain-schedule-"
SCHEDULE_TOPIC = TOPICS["on_schedule"]  # Cloud Scheduler ticks: {"spec", "schedule", "git_sha"}
MAX_DELIVERY_ATTEMPTS = 5  # then to the dead-letter topic (same as the local stack)
MIN_RETRY_DELAY = "10s"
MAX_RETRY_DELAY = "600s"


def sa_email(account: str, project: str) -> str:
    return f"{account}@{project}.iam.gserviceaccount.com"


@dataclass(frozen=True)
class FunctionSettings:
    """One Cloud Function: its entry point (in functions/main.py), topic and sizing."""

    name: str
    entry_point: str
    topic: str
    memory: str
    timeout: str
    max_instances: int


def cloud_function_name(entry_point: str) -> str:
    return "retrain-" + entry_point.removeprefix("on_").replace("_", "-")


_SIZING = {  # memory, timeout, max instances
    "on_data_arrival": ("512Mi", "60s", 20),
    "on_drift_alert": ("512Mi", "60s", 5),
    "on_run_complete": ("1Gi", "300s", 5),  # reads summaries, renders and posts comments
    "on_schedule": ("512Mi", "60s", 5),
}

FUNCTIONS = tuple(
    FunctionSettings(
        name=cloud_function_name(entry),
        entry_point=entry,
        topic=topic,
        memory=_SIZING[entry][0],
        timeout=_SIZING[entry][1],
        max_instances=_SIZING[entry][2],
    )
    for entry, topic in TOPICS.items()
)


def sink_name(kind: str, project: str) -> str:
    """Log sink per kind and source project (data can live in other projects than the service)."""
    return f"retrain-{kind.replace('_', '-')}-{project}"[:100]


__all__ = ["DEAD_LETTER_TOPIC", "FUNCTIONS", "TOPICS"]
