"""The functions' Vertex AI calls, recorded: the Vertex adapter (`retrain.google.vertex`,
built for the functions in `retrain.wiring.build_backend`) submits, lists and reads
PipelineJobs against the v1 REST fake, and each request it sent must be granted to
`retrain-functions` and listed for it in tests/iam/calls.py. Both ways: the account's Vertex AI
permissions are exactly those requests' plus the one Google documents for creating a pipeline
job (`aiplatform.metadataStores.get`, calls.py cites it): a custom role, not
roles/aiplatform.user (which carries models.upload, custom jobs, endpoints)."""

from __future__ import annotations

from retrain.localstack.fake_vertex import FakeVertex
from tests.iam.grants import GRANTS, ROLES
from tests.iam.requests import Need, check_granted_and_documented, vertex_needs
from tests.integration.test_vertex_backend import REQUEST, backend_for

CREATE_NEEDS = {"aiplatform.metadataStores.get"}  # documented, not a request of ours


def test_the_functions_vertex_requests_are_granted_and_nothing_more(
    vertex_fake: FakeVertex,
) -> None:
    backend = backend_for(vertex_fake)
    assert backend.submit(REQUEST) is True
    assert backend.running(REQUEST.spec) == [REQUEST.job_id]
    assert backend.describe(REQUEST.job_id) is not None
    needs: list[tuple[str, str, Need]] = [
        ("functions", f"{r.method} {r.path}", need)
        for r in vertex_fake.requests
        for need in vertex_needs(r.method, r.path)
    ]
    check_granted_and_documented(needs)
    held = {
        p
        for g in GRANTS
        if g["account"] == "functions"
        for p in ROLES[g["role"]]
        if p.startswith("aiplatform.")
    }
    assert held == {n.permission for _, _, n in needs} | CREATE_NEEDS
