"""docs/deployment.md lists every role each identity holds and why: its table is exactly the
one rendered from infra/iam.json and tests/iam/calls.py (tests/iam/roles_doc.py)."""

from __future__ import annotations

from tests.iam.grants import REPO
from tests.iam.roles_doc import table


def test_the_deployment_guide_lists_every_grant_and_why() -> None:
    page = (REPO / "docs" / "deployment.md").read_text()
    assert table() in page, (
        "docs/deployment.md 'Identities and their roles' is stale: paste "
        "`.venv/bin/python -c 'from tests.iam.roles_doc import table; print(table())'`"
    )
