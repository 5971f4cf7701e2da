"""The workflows as an attacker reads them: a fork's code never runs where a write token is,
candidate runs use the reviewed commit, and every third-party action is pinned to a commit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
WRITES = re.compile(r"write")


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return data


def test_every_third_party_action_is_pinned_to_a_commit_sha() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line_no, line in enumerate(path.read_text().splitlines(), 1):
            match = re.search(r"uses:\s*(\S+)", line)
            if match is None or match.group(1).startswith("./"):
                continue
            assert PINNED.match(match.group(1)), f"{path.name}:{line_no}: {match.group(1)}"
            assert "#" in line, f"{path.name}:{line_no}: say which release the sha is"


def test_no_fork_code_is_checked_out_where_a_token_can_write() -> None:
    fork = load("candidate-fork.yml")
    for name, job in fork["jobs"].items():
        if "uses" in job:  # the reusable candidate run: gated by the environment's reviewers
            continue
        permissions = job.get("permissions", fork.get("permissions", {}))
        writes = [scope for scope, level in permissions.items() if WRITES.search(str(level))]
        checkouts = [s for s in job.get("steps", []) if "actions/checkout" in s.get("uses", "")]
        assert not (writes and checkouts), f"job {name} checks out code and may write {writes}"


def test_the_gate_runs_base_code_over_the_forks_files() -> None:
    gate = load("candidate-fork.yml")["jobs"]["gate"]
    assert gate["permissions"] == {"contents": "read"}
    steps = gate["steps"]
    refs = {s["with"]["path"]: s["with"]["ref"] for s in steps if "checkout" in s.get("uses", "")}
    assert refs == {
        "base": "${{ github.event.pull_request.base.sha }}",
        "pr": "${{ github.event.pull_request.head.sha }}",
    }
    for step in steps:
        run = step.get("run", "")
        if "uv sync" in run or "pip install" in run or "make" in run.split():
            assert step.get("working-directory") == "base", step
        if "retrain" in run:
            assert run.lstrip().startswith("base/.venv/bin/retrain"), step


def test_runs_use_the_reviewed_sha_never_a_branch() -> None:
    for name in ("candidate-fork.yml", "pr.yml"):
        text = (WORKFLOWS / name).read_text()
        assert "head.ref" not in text and "head_ref" not in text, name
    candidate = load("candidate-fork.yml")["jobs"]["candidate"]
    assert candidate["with"]["ref"] == "${{ github.event.pull_request.head.sha }}"


INFRA = WORKFLOWS.parents[1] / "infra"


def test_the_ci_identity_is_confined_to_candidates() -> None:
    main = (INFRA / "main.tf").read_text()
    grants = json.loads((INFRA / "iam.json").read_text())["grants"]
    ci = {(g["role"], g["scope"]) for g in grants if g["account"] == "ci"}
    # no bucket-wide object rights, no production images, no acting as the production account
    assert not re.search(r'^\s*ci\s*=\s*"roles/storage', main, re.M)
    assert ("roles/iam.serviceAccountUser", "service_account:pipelines") not in ci
    assert ("roles/artifactregistry.writer", "project") not in ci
    assert {scope for role, scope in ci if role.startswith("roles/storage")} == {
        "bucket:candidates/",
        "bucket:pipelines/candidates/",
        "bucket:pipelines/",
    }
    # writes stay under the candidate prefixes; production's runs are only read (the summary
    # that names production's model, each candidate's baseline)
    assert ("roles/storage.objectViewer", "bucket:pipelines/") in ci
    assert {scope for role, scope in ci if role == "roles/storage.objectAdmin"} == {
        "bucket:candidates/",
        "bucket:pipelines/candidates/",
    }
    assert "immutable_tags = true" in main
    # the federation admits only the condition the code writes (tests/iam/test_ci_token.py
    # evaluates it against GitHub's token claims)
    assert "attribute_condition = var.ci_token_condition" in main
    assert "attribute.environment/${each.value}" in main
    assert "attribute.repository/${var.github_repo}" not in main


def _run_steps() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in (load(path.name).get("jobs") or {}).values():
            found += [(path.name, s) for s in job.get("steps", []) if "run" in s]
    return found


def test_spec_paths_reach_commands_as_one_quoted_argument_each(tmp_path: Path) -> None:
    """Issue 25: `$SPECS` was expanded unquoted, so a fork's file name was split at spaces and
    globbed. Each step reads the JSON list into an array and passes `"${specs[@]}"` after
    `--`; run here under bash with hostile names, each arrives whole."""
    import subprocess

    steps = [(n, s) for n, s in _run_steps() if "specs" in s["run"].lower()]
    using = [(n, s) for n, s in steps if "retrain compile" in s["run"] or "candidate" in s["run"]]
    assert using, "no step passes spec paths"
    for name, step in using:
        script = step["run"]
        assert not re.search(r'(?<!")\$\{?SPECS\b', script), (name, script)
        assert "SC2086" not in script, (name, script)
        if "SPECS_JSON" not in script:
            continue
        assert '-- "${specs[@]}"' in script, (name, script)
        reader = next(line for line in script.splitlines() if "mapfile" in line)
        hostile = ["specs/a b.yaml", "specs/*.yaml", "-rf", "specs/$(touch pwned).yaml"]
        done = subprocess.run(
            ["bash", "-c", reader.strip() + '\nprintf "%s\\n" "${#specs[@]}" "${specs[@]}"'],
            env={"SPECS_JSON": json.dumps(hostile), "PATH": "/usr/bin:/bin"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.splitlines() == [str(len(hostile)), *hostile], (name, done.stdout)
        assert not (tmp_path / "pwned").exists()
