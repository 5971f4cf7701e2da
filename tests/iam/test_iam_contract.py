"""IAM as a contract: the Google API methods our code paths call (`calls.CALLS`) against
what Terraform grants (infra/iam.json), through each role's permissions (role_permissions.json,
from Google's IAM roles reference). Both ways: every call is granted at its scope, and every
grant is the only one serving some call at exactly its scope (so nothing is granted wider or
more than a code path needs)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.iam.calls import CALLS, Call
from tests.iam.grants import GRANTS, REPO, ROLES


def covers(granted: str, needed: str) -> bool:
    """A project-level role applies to the project's buckets; a bucket-wide one to a prefix."""
    if granted == needed:
        return True
    if granted == "project":
        return needed == "bucket" or needed.startswith("bucket:")
    return granted == "bucket" and needed.startswith("bucket:")


def serving(call: Call) -> list[dict[str, str]]:
    return [
        g
        for g in GRANTS
        if g["account"] == call.account
        and call.permission in ROLES[g["role"]]
        and covers(g["scope"], call.scope)
    ]


def test_every_granted_role_has_its_permissions_listed() -> None:
    assert sorted({g["role"] for g in GRANTS} - set(ROLES)) == []


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.account}:{c.permission}@{c.scope}")
def test_every_call_is_granted(call: Call) -> None:
    assert serving(call), (
        f"{call.account} calls {call.method} ({call.adapter}) needing {call.permission} on "
        f"{call.scope}: no grant in infra/iam.json gives it"
    )


@pytest.mark.parametrize("grant", GRANTS, ids=lambda g: f"{g['account']}:{g['role']}@{g['scope']}")
def test_every_grant_is_needed_at_its_scope(grant: dict[str, str]) -> None:
    needs = [
        c
        for c in CALLS
        if c.scope == grant["scope"] and serving(c) == [grant]  # the only grant serving it
    ]
    assert needs, (
        f"{grant['role']} on {grant['scope']} for {grant['account']} serves no call of "
        "tests/iam/calls.py CALLS that another grant does not: remove it or narrow it"
    )


def test_the_functions_write_only_the_history() -> None:
    writes = [
        g
        for g in GRANTS
        if g["account"] == "functions" and "storage.objects.create" in ROLES[g["role"]]
    ]
    assert [g["scope"] for g in writes] == ["bucket:history/"]


def _tf() -> str:
    return "\n".join(p.read_text() for p in sorted((REPO / "infra").glob("*.tf")))


def test_terraform_grants_service_accounts_only_from_iam_json() -> None:
    hcl = _tf()
    assert 'jsondecode(file("${path.module}/iam.json"))' in hcl
    members: list[tuple[str, str]] = re.findall(r'resource "(google_\w+_iam_member)" "(\w+)"', hcl)
    outside = {
        # not service accounts of ours: Google's service agents, sink writers, GitHub's WIF
        ("google_pubsub_topic_iam_member", "dead_letter_publisher"),
        ("google_project_iam_member", "pubsub_agent_subscriber"),
        ("google_pubsub_topic_iam_member", "sink_writers"),
        ("google_service_account_iam_member", "ci_wif"),
    }
    from_json = {m for m in members if m not in outside}
    assert from_json, "no grant is made from iam.json"
    for kind, name in from_json:
        block = hcl.split(f'resource "{kind}" "{name}"', 1)[1].split("\nresource ", 1)[0]
        assert "local.grants" in block or "local.dataset_grants" in block, (kind, name)


def test_terraform_carries_out_every_grant_scope() -> None:
    """A grant whose scope no Terraform `for_each` selects is never made: each scope in
    iam.json must be picked by an exact (`g.scope == "X"`) or prefix (`startswith`) filter."""
    hcl = _tf()
    exact = set(re.findall(r'g\.scope == "([^"]+)"', hcl))
    prefixes = re.findall(r'startswith\(g\.scope, "([^"]+)"\)', hcl)
    unmade = sorted(
        {g["scope"] for g in GRANTS}
        - {s for s in {g["scope"] for g in GRANTS} if s in exact or s.startswith(tuple(prefixes))}
    )
    assert unmade == [], f"no Terraform resource grants at these scopes: {unmade}"


def test_every_account_with_calls_exists() -> None:
    accounts: set[str] = {c.account for c in CALLS}
    generated: dict[str, Any] = json.loads((REPO / "infra" / "example.tfvars.json").read_text())
    # build: infra/iam.tf; candidate_runs: infra/candidates.tf
    known = set(generated["service_accounts"]) | {"build", "candidate_runs"}
    assert accounts <= known, accounts - known
