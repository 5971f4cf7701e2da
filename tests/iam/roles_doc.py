"""The table of docs/deployment.md ("Identities and their roles"), rendered from infra/iam.json
and tests/iam/calls.py: every grant, and the permissions it serves (the calls only it gives).
tests/iam/test_roles_doc.py checks the page holds exactly this table."""

from __future__ import annotations

from tests.iam.calls import CALLS
from tests.iam.grants import GRANTS
from tests.iam.test_iam_contract import serving

ACCOUNTS = {  # key of var.service_accounts (infra/) -> the account's name and what it runs
    "functions": ("retrain-functions", "the Cloud Functions"),
    "pipelines": ("retrain-pipelines", "production PipelineJobs and their Dataflow workers"),
    "events": ("retrain-events", "Eventarc's push to the functions"),
    "deployer": ("retrain-deployer", "Cloud Build on merge (cloudbuild.yaml)"),
    "build": ("retrain-build", "the functions' source builds"),
    "ci": ("retrain-ci", "GitHub Actions candidate runs (Workload Identity Federation)"),
    "candidate_runs": ("retrain-candidate-runs", "a pull request's candidate PipelineJobs"),
}


def table() -> str:
    lines = [
        "| account (runs) | role | where | needed for (permissions its callers use) |",
        "|---|---|---|---|",
    ]
    for grant in GRANTS:
        name, runs = ACCOUNTS[grant["account"]]
        used = sorted({c.permission for c in CALLS if grant in serving(c)})
        lines.append(
            f"| `{name}` ({runs}) | `{grant['role']}` | {grant['scope']} | {', '.join(used)} |"
        )
    return "\n".join(lines)
