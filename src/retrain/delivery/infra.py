"""Values handed to Terraform (`infra/`): resource names and the exact log-sink filters.

The filters come from `retrain.events.filters` (the decoders' side), the names from `names`;
`retrain infra tfvars` writes them as `infra/retrain.auto.tfvars.json`, so Terraform never
spells a filter or a topic name itself.
"""

from __future__ import annotations

import json
from typing import Any

from retrain.delivery import names
from retrain.delivery.config import DeployConfig
from retrain.delivery.logfilter import parse
from retrain.events import filters
from retrain.spec.model import Spec


def sink_filters(config: DeployConfig, specs: list[Spec]) -> dict[str, dict[str, str]]:
    """kind -> {source project: filter}. BigQuery audit logs are written in the project that
    owns the table, so there is one data-arrival sink per project holding a watched table."""
    table_projects = sorted(
        {s.data.table.split(".")[0] for s in specs if s.data.source == "bigquery"}
    )
    result = {
        "data_arrival": {p: filters.data_arrival_filter(p) for p in table_projects},
        "drift_alert": {config.project: filters.drift_alert_filter(config.project)},
        "run_complete": {config.project: filters.run_complete_filter(config.project)},
    }
    for by_project in result.values():
        for text in by_project.values():
            parse(text)  # a filter we cannot read is a bug before it is a sink
    return result


def tfvars(config: DeployConfig, specs: list[Spec], base_branch: str = "main") -> dict[str, Any]:
    topics = {
        "data_arrival": names.TOPICS["on_data_arrival"],
        "drift_alert": names.TOPICS["on_drift_alert"],
        "run_complete": names.TOPICS["on_run_complete"],
    }
    sinks = [
        {
            "name": names.sink_name(kind, project),
            "project": project,
            "topic": topics[kind],
            "filter": text,
        }
        for kind, by_project in sink_filters(config, specs).items()
        for project, text in by_project.items()
    ]
    return {
        "project": config.project,
        "region": config.region,
        "artifact_bucket": config.artifact_bucket,
        "github_repo": config.github_repo,
        "github_secret": config.github_secret,
        "topics": topics,
        "schedule_topic": names.SCHEDULE_TOPIC,
        "dead_letter_topic": names.DEAD_LETTER_TOPIC,
        "max_delivery_attempts": names.MAX_DELIVERY_ATTEMPTS,
        "log_sinks": sinks,
        "service_accounts": {
            "functions": names.FUNCTIONS_SA,
            "pipelines": names.PIPELINES_SA,
            "events": names.TRIGGER_SA,
            "deployer": names.DEPLOYER_SA,
            "ci": names.CANDIDATE_SA,
        },
        "functions": [fn.name for fn in names.FUNCTIONS],
        "watched_datasets": watched_datasets(config, specs),
        "all_watched_datasets": watched_datasets(config, specs, other_projects_only=False),
        "candidate_environments": [names.CANDIDATE_ENVIRONMENT, names.FORK_CANDIDATE_ENVIRONMENT],
        "ci_token_condition": ci_token_condition(config.github_repo, base_branch),
    }


def ci_token_condition(repo: str, base_branch: str) -> str:
    """The Workload Identity provider's CEL condition: which GitHub Actions tokens may become
    the CI account. Claims as GitHub documents them for its OIDC tokens (`repository`, `ref`,
    `event_name`, `environment`, `job_workflow_ref`). Only the candidate workflow, in one of
    the two candidate environments, and only for the event and ref each path uses:
      - a branch of this repository: `pull_request`, ref `refs/pull/<n>/merge`;
      - a fork: `pull_request_target`, which runs the base branch's workflow, so the ref and
        the workflow's own ref are the base branch.
    A push, a manual dispatch or a scheduled job gets nothing, in any environment."""
    workflow = f"{repo}/{names.CANDIDATE_WORKFLOW}@"
    own = " && ".join([
        f'assertion.environment == "{names.CANDIDATE_ENVIRONMENT}"',
        'assertion.event_name == "pull_request"',
        'assertion.ref.startsWith("refs/pull/")',
    ])  # fmt: skip
    fork = " && ".join([
        f'assertion.environment == "{names.FORK_CANDIDATE_ENVIRONMENT}"',
        'assertion.event_name == "pull_request_target"',
        f'assertion.ref == "refs/heads/{base_branch}"',
        f'assertion.job_workflow_ref == "{workflow}refs/heads/{base_branch}"',
    ])  # fmt: skip
    return (
        f'assertion.repository == "{repo}"'
        f' && assertion.job_workflow_ref.startsWith("{workflow}")'
        f" && (({own}) || ({fork}))"
    )


def watched_datasets(
    config: DeployConfig, specs: list[Spec], other_projects_only: bool = True
) -> list[dict[str, str]]:
    """Datasets of watched tables in other projects: the pipelines account reads them there
    (a grant in the project itself does not reach them). All of them (`other_projects_only`
    off): the candidate runs account reads only these, never the whole project."""
    found = {
        tuple(s.data.table.split(".")[:2])
        for s in specs
        if s.data.source == "bigquery"
        and not (other_projects_only and s.data.table.startswith(f"{config.project}."))
    }
    return [{"project": p, "dataset": d} for p, d in sorted(found)]


def tfvars_json(config: DeployConfig, specs: list[Spec], base_branch: str = "main") -> str:
    return json.dumps(tfvars(config, specs, base_branch), indent=2, sort_keys=True) + "\n"
