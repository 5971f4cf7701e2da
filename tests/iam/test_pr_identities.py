"""The identities that run a pull request's code can start candidate runs and touch what is
under candidates/, and nothing of production (issue 23, least privilege).

Two accounts run code from a pull request: `ci`, which the candidate workflow becomes through
Workload Identity Federation while it builds and compiles the PR's checkout, and
`candidate_runs`, which the PR's candidate PipelineJob runs as (its steps run the PR's image).
Whatever that code does, it does with these grants (infra/iam.json), so the test reads the
grants, not the code.

role_permissions.json lists only the permissions of predefined roles that matter here, not
every one; so besides checking the listed permissions, Vertex AI permissions may reach a PR
identity only through a custom role (whose permissions iam.json lists exactly), and BigQuery
data roles only on datasets.
"""

from __future__ import annotations

import json
import re

from tests.iam.grants import GRANTS, REPO, ROLES

PR_IDENTITIES = ("ci", "candidate_runs")

# What a PR's code must never be able to do, and why (permission names from Google's IAM
# permissions reference, https://cloud.google.com/iam/docs/permissions-reference).
DANGEROUS = {
    # A new model version with the serving alias is how promotion works (retrain deploy
    # promotions, ModelService.UploadModel): PR code could move production's alias.
    "aiplatform.models.upload": "upload a model version (move production's serving alias)",
    "aiplatform.models.update": "move a model's version aliases",
    "aiplatform.models.delete": "delete production's models",
    "aiplatform.endpoints.deploy": "deploy a model to an endpoint",
    "aiplatform.pipelineJobs.cancel": "cancel production's runs",
    "aiplatform.pipelineJobs.delete": "delete production's runs",
    # A custom job without a service account runs as the Vertex AI service agent.
    "aiplatform.customJobs.create": "start custom jobs (as the Vertex AI service agent)",
    "bigquery.datasets.create": "create datasets",
}
# Readable project-wide, these would open every table of the project to PR code.
PROJECT_WIDE_FORBIDDEN = {"bigquery.tables.getData", "bigquery.tables.updateData"}
DATASET_SCOPES = re.compile(r"^(datasets|all_datasets|dataset:[a-z_]+)$")
STORAGE_WRITES = {"storage.objects.create", "storage.objects.delete", "storage.objects.update"}
CANDIDATE_PREFIXES = ("bucket:candidates/", "bucket:pipelines/candidates/")


def _grants() -> list[dict[str, str]]:
    return [g for g in GRANTS if g["account"] in PR_IDENTITIES]


def test_the_pr_identities_are_the_ones_the_candidate_workflow_uses() -> None:
    workflow = (REPO / ".github" / "workflows" / "candidate-run.yml").read_text()
    assert "service_account: ${{ vars.GCP_CI_SERVICE_ACCOUNT }}" in workflow  # ci
    assert '--service-account "retrain-candidate-runs@' in workflow  # candidate_runs
    tfvars = json.loads((REPO / "infra" / "example.tfvars.json").read_text())
    assert "ci" in tfvars["service_accounts"]


def test_no_pr_identity_holds_a_dangerous_permission() -> None:
    held = [
        (g["account"], permission, g["role"], g["scope"])
        for g in _grants()
        for permission in ROLES[g["role"]]
        if permission in DANGEROUS
        or (permission in PROJECT_WIDE_FORBIDDEN and not DATASET_SCOPES.match(g["scope"]))
    ]
    assert held == [], "\n".join(
        f"{a} holds {p} through {r} on {s}: {DANGEROUS.get(p, 'read or write every table')}"
        for a, p, r, s in held
    )


def test_vertex_ai_reaches_pr_identities_only_through_custom_roles() -> None:
    """Predefined Vertex AI roles come as bundles (roles/aiplatform.user carries models.upload,
    pipelineJobs.cancel and customJobs.create); a custom role carries exactly its list."""
    predefined = [
        (g["account"], g["role"])
        for g in _grants()
        if g["role"].startswith("roles/aiplatform.")
        or g["role"] in ("roles/owner", "roles/editor", "roles/viewer")
    ]
    assert predefined == []


def test_pr_identities_read_bigquery_data_only_on_datasets() -> None:
    wide = [
        (g["account"], g["role"], g["scope"])
        for g in _grants()
        if re.match(r"^roles/bigquery\.(data\w+|admin|user|metadataViewer)$", g["role"])
        and not DATASET_SCOPES.match(g["scope"])
    ]
    assert wide == []


def test_pr_identities_write_only_under_candidates_and_act_only_as_candidate_runs() -> None:
    for g in _grants():
        permissions = set(ROLES[g["role"]])
        if permissions & STORAGE_WRITES:
            assert g["scope"] in CANDIDATE_PREFIXES, g
        if "iam.serviceAccounts.actAs" in permissions:
            assert g["scope"] == "service_account:candidate_runs", g
