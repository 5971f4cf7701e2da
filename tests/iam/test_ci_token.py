"""Which GitHub Actions tokens may become the CI account: the Workload Identity condition,
evaluated by a real CEL interpreter against claim sets shaped as GitHub documents its OIDC
tokens ("About security hardening with OpenID Connect": `repository`, `ref`, `event_name`,
`environment`, `job_workflow_ref`, `sub`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import celpy
import pytest
import yaml
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError

from retrain.delivery import names
from retrain.delivery.infra import ci_token_condition

REPO = "acme/models"
WORKFLOW = f"{REPO}/{names.CANDIDATE_WORKFLOW}"
ROOT = Path(__file__).resolve().parents[2]


def admitted(claims: dict[str, Any], condition: str | None = None) -> bool:
    """Google grants a token only when the condition is true; a claim the condition reads but
    the token lacks is an evaluation error, which is not true either."""
    env = celpy.Environment()
    program = env.program(env.compile(condition or ci_token_condition(REPO, "main")))
    try:
        result = program.evaluate({"assertion": json_to_cel(claims)})
    except CELEvalError:
        return False
    return isinstance(result, celpy.celtypes.BoolType) and bool(result)


def own_pr(**changes: str) -> dict[str, str]:
    """A pull request from a branch of the repository: pr.yml calls the candidate workflow."""
    claims = {
        "sub": f"repo:{REPO}:environment:{names.CANDIDATE_ENVIRONMENT}",
        "repository": REPO,
        "event_name": "pull_request",
        "ref": "refs/pull/42/merge",
        "environment": names.CANDIDATE_ENVIRONMENT,
        "job_workflow_ref": f"{WORKFLOW}@refs/pull/42/merge",
    }
    return {**claims, **changes}


def fork_pr(**changes: str) -> dict[str, str]:
    """A fork's pull request: candidate-fork.yml (pull_request_target) runs the base branch's
    workflow, so the token's ref and workflow ref are the base branch."""
    claims = {
        "sub": f"repo:{REPO}:environment:{names.FORK_CANDIDATE_ENVIRONMENT}",
        "repository": REPO,
        "event_name": "pull_request_target",
        "ref": "refs/heads/main",
        "environment": names.FORK_CANDIDATE_ENVIRONMENT,
        "job_workflow_ref": f"{WORKFLOW}@refs/heads/main",
    }
    return {**claims, **changes}


def test_the_two_candidate_paths_get_a_token() -> None:
    assert admitted(own_pr())
    assert admitted(fork_pr())


@pytest.mark.parametrize(
    "claims",
    [
        # another repository, even one whose name starts the same
        own_pr(
            repository="acme/models-fork",
            job_workflow_ref=f"acme/models-fork/{names.CANDIDATE_WORKFLOW}@refs/pull/1/merge",
        ),
        own_pr(repository="evil/models"),
        # a push to a branch, a manual or scheduled run, in the candidate environment
        own_pr(event_name="push", ref="refs/heads/feature"),
        own_pr(event_name="workflow_dispatch", ref="refs/heads/main"),
        own_pr(event_name="schedule", ref="refs/heads/main"),
        # another workflow of the repository (e.g. one a PR adds) in the candidate environment
        own_pr(job_workflow_ref=f"{REPO}/.github/workflows/deploy.yml@refs/pull/42/merge"),
        # a job outside the candidate environments, or with none
        own_pr(environment="production"),
        {k: v for k, v in own_pr().items() if k != "environment"},
        # pull_request in the fork environment (skips the maintainer's approval path)
        own_pr(environment=names.FORK_CANDIDATE_ENVIRONMENT),
        # pull_request_target from another branch or running a workflow from elsewhere
        fork_pr(ref="refs/heads/feature", job_workflow_ref=f"{WORKFLOW}@refs/heads/feature"),
        fork_pr(job_workflow_ref=f"{WORKFLOW}@refs/heads/feature"),
        fork_pr(environment=names.CANDIDATE_ENVIRONMENT),
        # a token with no workflow reference at all
        {k: v for k, v in fork_pr().items() if k != "job_workflow_ref"},
    ],
)
def test_every_other_token_is_refused(claims: dict[str, str]) -> None:
    assert not admitted(claims)


def test_an_unset_repository_admits_nothing() -> None:
    condition = ci_token_condition("", "main")
    assert not admitted(own_pr(), condition) and not admitted(fork_pr(), condition)


def test_the_condition_follows_the_base_branch() -> None:
    condition = ci_token_condition(REPO, "trunk")
    trunk = fork_pr(ref="refs/heads/trunk", job_workflow_ref=f"{WORKFLOW}@refs/heads/trunk")
    assert admitted(trunk, condition) and not admitted(fork_pr(), condition)


def _jobs(workflow: str) -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text())
    return dict(loaded["jobs"])


def test_the_workflows_use_the_environments_and_workflow_the_condition_names() -> None:
    """A renamed environment or workflow file would silently lock candidate runs out."""
    assert (ROOT / names.CANDIDATE_WORKFLOW).is_file()
    callers = {
        "pr.yml": names.CANDIDATE_ENVIRONMENT,
        "candidate-fork.yml": names.FORK_CANDIDATE_ENVIRONMENT,
    }
    for workflow, environment in callers.items():
        calls = [j for j in _jobs(workflow).values() if "uses" in j]
        assert [j["uses"] for j in calls] == [f"./{names.CANDIDATE_WORKFLOW}"], workflow
        assert calls[0]["with"]["environment"] == environment, workflow
    run = _jobs(Path(names.CANDIDATE_WORKFLOW).name)
    assert all(job["environment"] == "${{ inputs.environment }}" for job in run.values())
