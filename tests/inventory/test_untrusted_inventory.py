"""The inventory reads what others wrote (summaries, PRs, titles, decisions): issue 25's smaller
findings. A metric name is not a path; a fork's branch is not the service's; nothing printed
reaches the terminal as a control sequence."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from retrain.cli.main import main
from retrain.codehost.github import GitHubCodeHost, build_client
from retrain.codehost.local import LocalPull
from retrain.codehost.port import PromotionRequest
from retrain.inventory.cloud import GitHubPulls
from retrain.inventory.gather import Inventory, _concerns, open_promotion
from retrain.inventory.site import write_site
from retrain.summary import SliceMetric
from tests.fakes.github_client import settings_for, spec_files
from tests.inventory.conftest import cli_env
from tests.inventory.fork_github import ForkingGitHub
from tests.inventory.world import EVENT, World

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202e"
NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)


def test_a_forks_retrain_promote_branch_is_not_the_services_promotion_pr() -> None:
    gh = ForkingGitHub(files=spec_files())
    with gh:
        client = build_client(settings_for(gh))
        ours = GitHubCodeHost(client, "acme/models").open_or_update_promotion(
            PromotionRequest(
                spec="churn",
                spec_path="specs/churn.yaml",
                version="churn-job-1",
                title="Promote churn to churn-job-1",
                body="b",
            )
        )
        assert ours is not None
        fork = gh.open_fork_pr("mallory/models", "retrain/promote-churn", "Promote churn to evil")
        pulls = {p.number: p for p in GitHubPulls(client, "acme/models").pulls()}
    assert (pulls[ours.number].from_fork, pulls[ours.number].kind) == (False, "promotion")
    theirs = pulls[fork]
    assert theirs.from_fork and theirs.kind == "other"
    assert not _concerns(theirs, "churn", set())  # not shown as churn's PR
    assert _concerns(pulls[ours.number], "churn", set())


def test_a_fork_pull_is_never_the_open_promotion(inventory: Inventory) -> None:
    facts = inventory.models[0]
    forged = facts.pulls[0].model_copy(
        update={"number": 99, "state": "open", "head": "retrain/promote-churn", "from_fork": True}
    )
    facts = facts.model_copy(update={"pulls": [forged]})
    assert open_promotion(facts) is None


@pytest.mark.parametrize("metric", ["auc/x", "../../../../escaped", "a\x1b[2Jb", "/abs", "ü.ç"])
def test_a_metric_name_is_not_a_path(inventory: Inventory, tmp_path: Path, metric: str) -> None:
    """`auc/x` crashed `retrain inventory` (charts/churn-auc/x.svg has no directory), and
    `../x` would have written outside the site."""
    inventory = inventory.model_copy(deep=True)
    run = next(r for f in inventory.models for r in f.runs if r.summary is not None)
    assert run.summary is not None
    run.summary.metrics.append(SliceMetric(metric=metric, candidate=0.5, baseline=0.4))
    out = tmp_path / "site"
    written = write_site(inventory, out, NOW)
    charts = [p for p in written if p.parent == out / "models" / "charts"]
    assert all(p.resolve().is_relative_to(out.resolve()) for p in written)
    assert len(charts) == len({p.name for p in charts})
    assert not (tmp_path / "escaped").exists() and not any(
        p.name == "escaped.svg" for p in tmp_path.rglob("*")
    )


def test_status_lineage_and_explain_escape_control_characters(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Titles, owners and reasons come from PRs, specs and events: a terminal must show an
    escape sequence, never run it."""
    path = world.runs / "codehost" / "pr-41" / "pull.json"
    pull = LocalPull.model_validate_json(path.read_text())
    path.write_text(pull.model_copy(update={"title": f"tune {ESCAPES} churn"}).model_dump_json())
    log = world.logs / "on_data_arrival.log"
    record = {
        "severity": "INFO",
        "message": "decision",
        "decision": "ignored",
        "event": "data_arrival",
        "event_id": "evil-1",
        "spec": "churn",
        "reason": f"a reason with {ESCAPES}",
    }
    original = log.read_text()
    log.write_text(original + json.dumps(record) + "\n")
    try:
        cli_env(monkeypatch, world.root.parent.parent)
        outputs = []
        for argv in (["status", "churn"], ["lineage", "churn@champion"], ["explain", EVENT]):
            assert main([*argv, "--workdir", str(world.root)]) == 0
            outputs.append(capsys.readouterr().out)
        main(["explain", "evil-1", "--workdir", str(world.root)])
        outputs.append(capsys.readouterr().out)
        shown = "".join(outputs)
        assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
        assert "tune \\x1b]0;pwned\\x07\\x1b[2J\\u202e churn" in outputs[0]
    finally:
        path.write_text(pull.model_dump_json())
        log.write_text(original)
