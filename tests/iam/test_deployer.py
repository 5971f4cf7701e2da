"""The build's identity (Cloud Build on merge) and Vertex AI: it applies promotions, which the
build rehearsal records as Model Registry calls only (tests/delivery/test_build_rehearsal.py:
models get, listVersions, upload, mergeVersionAliases). A predefined Vertex AI role would
carry far more (roles/aiplatform.user: pipeline and custom jobs, endpoints), so it holds a
custom role of exactly those permissions."""

from __future__ import annotations

from tests.iam.grants import GRANTS, IAM, ROLES
from tests.iam.requests import REST_PERMISSIONS, vertex_needs

MODEL_REGISTRY = {
    vertex_needs(method, f"/v1/projects/p/locations/l/models{tail}")[0].permission
    for method, tail in (
        ("GET", "/m"),
        ("GET", "/m:listVersions"),
        ("POST", ":upload"),
        ("POST", "/m:mergeVersionAliases"),
    )
}


def _vertex_permissions(account: str) -> set[str]:
    return {
        p
        for g in GRANTS
        if g["account"] == account
        for p in ROLES[g["role"]]
        if p.startswith("aiplatform.")
    }


def test_the_deployer_holds_only_the_model_registry_of_vertex_ai() -> None:
    assert _vertex_permissions("deployer") == MODEL_REGISTRY
    roles = {g["role"] for g in GRANTS if g["account"] == "deployer"}
    assert not any(r.startswith("roles/aiplatform.") for r in roles), roles
    assert set(IAM["custom_roles"]["retrainModelPromoter"]["permissions"]) == MODEL_REGISTRY


def test_no_rest_rule_names_a_vertex_permission() -> None:
    """The gcloud commands the build runs reach no Vertex AI method (the SDK calls do)."""
    assert not any(n.permission.startswith("aiplatform.") for n in REST_PERMISSIONS.values())
