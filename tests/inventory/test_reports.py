"""status, lineage and explain over a work directory written by the service's own producers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from retrain.cli.main import main
from retrain.errors import RetrainError
from retrain.inventory import explain, lineage, status
from retrain.inventory.gather import Inventory, gather, pr_in_subject
from retrain.settings import Settings
from retrain.wiring import build_inventory
from tests.inventory.conftest import cli_env
from tests.inventory.world import (
    BASELINE_JOB,
    EVENT,
    HELD_EVENT,
    PR_JOB,
    PROMOTED_JOB,
    REPO_SPECS,
    SHA,
    World,
)


def test_production_comes_from_git_and_the_merged_promotion_pr(inventory: Inventory) -> None:
    churn = inventory.model("churn")
    assert churn is not None
    assert churn.production.version == PROMOTED_JOB
    assert churn.production.commit is not None
    assert churn.production.commit.subject.startswith("Merge pull request #1 ")
    assert churn.production.commit.committed_at.startswith("2026-11-21T09:30:00")
    house = inventory.model("house-prices")
    assert house is not None and house.production.version is None


def test_runs_carry_labels_and_summaries_newest_first(inventory: Inventory) -> None:
    churn = inventory.model("churn")
    assert churn is not None
    assert [r.job_id for r in churn.runs] == [PR_JOB, PROMOTED_JOB, BASELINE_JOB]
    failed, promoted = churn.runs[0], churn.runs[1]
    assert (failed.state, failed.pr_number, failed.summary) == ("failed", 41, None)
    assert promoted.trigger == "data_arrival" and promoted.event_id == EVENT
    assert promoted.verdict == "blessed" and promoted.git_sha == SHA
    assert [p.run_id for p in churn.history] == [BASELINE_JOB, PROMOTED_JOB]


def test_status_text_shows_each_part(inventory: Inventory) -> None:
    text = status.render(inventory)
    assert f"production  churn@champion = {PROMOTED_JOB}, promoted 2026-11-21T09:30:00" in text
    assert "by PR #1" in text
    assert f"{PR_JOB}" in text and "failed" in text
    assert "#41 other" in text  # the open PR its failed run was for
    assert "pending     unknown (state store not read" in text
    assert "120 new rows, 120 pending < min_new_rows 500" in text
    assert "missing     state store: no local stack in " in text
    assert "the counters live in its Firestore emulator, in memory" in text
    assert "house-prices@champion: no version recorded" in text
    assert "notices     1 open:\n  #1 retrain: churn: retraining failed" in text
    assert text.count("notices     none open") == 1  # house-prices': closed by a success


def test_lineage_of_the_alias_follows_every_recorded_link(inventory: Inventory) -> None:
    chain = lineage.lineage(inventory, "churn@champion")
    assert chain.version == PROMOTED_JOB
    assert chain.promotion_pr is not None and chain.promotion_pr.number == 1
    assert chain.model is not None and chain.model.evaluation is not None
    assert chain.model.evaluation.blessed
    assert chain.baseline is not None and chain.baseline.job_id == BASELINE_JOB
    text = lineage.render(chain)
    assert "registry    churn@champion -> version " + PROMOTED_JOB in text
    assert "merged by demo-reviewer at " in text
    assert f"trigger   data_arrival, event {EVENT}" in text
    assert "window 2026-11-21T00:00:00Z/2026-11-21T01:00:00Z" in text
    assert "window none (every row)" in text  # the baseline's run read every row
    assert "auc" in text and "0.8412" in text and "0.8331" in text
    assert f"baseline    {BASELINE_JOB} (succeeded)" in text
    # the promoted run's summary records its lineage (version 3); the baseline's predates it
    assert "snapshot 2026-11-21T01:00:00Z, 4000 rows, sha256 abababababab;" in text
    assert "schema    specs/churn.schema.pbtxt (blob cdcdcdcdcdcd); image none (local run)" in text
    assert "schema    not recorded; image none (local run)" in text


def test_lineage_by_job_id_and_unknown_targets(inventory: Inventory) -> None:
    chain = lineage.lineage(inventory, PR_JOB)
    assert chain.model is not None and chain.model.run is not None
    assert chain.model.missing == ["evaluation: the run failed, no summary"]
    with pytest.raises(RetrainError, match="neither a spec"):
        lineage.lineage(inventory, "nothing-like-it")
    with pytest.raises(RetrainError, match="alias 'champion', not 'canary'"):
        lineage.lineage(inventory, "churn@canary")


def test_explain_shows_every_decision_of_the_delivery_and_the_policy(
    inventory: Inventory,
) -> None:
    found = explain.explain(inventory, EVENT)
    assert [d.record.decision for d in found.decisions] == ["run", "deduplicated"]
    assert found.decisions[0].source.endswith("on_data_arrival.log:2")
    text = explain.render(explain.explain(inventory, HELD_EVENT))
    assert "data_arrival -> debounced for churn: 120 new rows" in text
    policy = text.split("policy of churn", 1)[1]
    assert "  data_arrival: min_new_rows 500, debounce " in policy
    assert "{" not in policy and "'" not in policy  # words, not a Python dict
    with pytest.raises(RetrainError, match="no decision recorded for event 'nope'"):
        explain.explain(inventory, "nope")
    with pytest.raises(RetrainError) as a_run:  # a job id where an event id is asked
        explain.explain(inventory, PROMOTED_JOB)
    assert str(a_run.value) == (
        f"'{PROMOTED_JOB}' is a data_arrival run of churn (succeeded, blessed), not an event: "
        f"`retrain explain {EVENT}` shows the decisions that started it; "
        f"`retrain lineage {PROMOTED_JOB}` shows where it came from"
    )


def test_a_directory_that_is_not_a_git_checkout_says_so(world: World, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "demo"
    shutil.copytree(world.root, copy)
    shutil.rmtree(copy / "repo" / ".git")
    found = gather(build_inventory(Settings(), cloud=False, workdir=copy))
    churn = found.model("churn")
    assert churn is not None
    assert churn.production.version == PROMOTED_JOB  # the file still names it
    assert churn.production.commit is None
    assert any(p.startswith("git: ") and "not a git repository" in p for p in churn.problems)


def test_a_broken_job_record_is_named_not_fatal(world: World, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "demo"
    shutil.copytree(world.root, copy)
    (copy / "runs" / "_jobs" / PR_JOB / "job.json").write_text("{not json")
    found = gather(build_inventory(Settings(), cloud=False, workdir=copy))
    churn = found.model("churn")
    assert churn is not None and churn.runs == []
    assert any(f"{PR_JOB}/job.json" in p for p in churn.problems)


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("Merge pull request #12 from acme/retrain/promote-churn", 12),
        ("Promote churn to x (#7)", 7),
        ("Tune churn", None),
    ],
)
def test_pr_in_subject(subject: str, number: int | None) -> None:
    assert pr_in_subject(subject) == number


def test_cli_defaults_to_the_demo_dir_and_prints_json(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env(monkeypatch, world.root.parent.parent)
    workdir = world.root.parent  # <tmp>/work holding demo/
    assert main(["status", "churn", "--workdir", workdir.name, "--json"]) == 0  # relative
    doc = json.loads(capsys.readouterr().out)
    assert doc["notes"] == [f"{workdir} has no runs; reading the demo's facts in {world.root}"]
    assert [m["spec"]["name"] for m in doc["models"]] == ["churn"]
    assert doc["models"][0]["production"]["version"] == PROMOTED_JOB
    assert main(["lineage", "churn@champion", "--workdir", str(world.root)]) == 0
    assert PROMOTED_JOB in capsys.readouterr().out
    assert main(["explain", EVENT, "--workdir", str(world.root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["event_id"] == EVENT
    assert main(["status", "nosuch", "--workdir", str(world.root)]) == 2
    capsys.readouterr()
    site = world.root.parent / "site"
    assert main(["inventory", "--out", str(site), "--workdir", str(world.root)]) == 0
    assert capsys.readouterr().out.startswith("wrote ")  # text by default, like the others
    assert main(["inventory", "--out", str(site), "--workdir", str(world.root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["out"] == str(site)


def test_a_directory_inside_another_checkout_is_not_its_history(world: World) -> None:
    """The demo's sandbox lies inside this repository's work/: git would answer from here."""
    from retrain.inventory.sources import GitSpecHistory

    with pytest.raises(RetrainError, match="not a git checkout"):
        GitSpecHistory(world.repo / "specs").commits("churn.yaml")


def test_without_a_recorded_version_the_open_promotion_is_shown_as_proposed(
    world: World, tmp_path: Path
) -> None:
    """What `make demo` leaves: a promotion PR opened, not merged, and no git history."""
    import shutil

    from retrain.codehost.local import LocalPull
    from retrain.inventory.site import model_row

    copy = tmp_path / "demo"
    shutil.copytree(world.root, copy)
    shutil.rmtree(copy / "repo" / ".git")
    shutil.copy(REPO_SPECS / "churn.yaml", copy / "repo" / "specs" / "churn.yaml")
    pull_file = copy / "runs" / "codehost" / "pr-1" / "pull.json"
    pull = LocalPull.model_validate_json(pull_file.read_text())
    pull_file.write_text(pull.model_copy(update={"state": "open"}).model_dump_json())
    found = gather(build_inventory(Settings(), cloud=False, workdir=copy))
    chain = lineage.lineage(found, "churn@champion")
    assert chain.version is None and chain.proposed_by is not None
    assert chain.model is not None and chain.model.job_id == PROMOTED_JOB
    text = lineage.render(chain)
    assert "registry    churn@champion: no version recorded" in text
    assert f"proposed by PR #1 Promote churn to {PROMOTED_JOB} (open)" in text
    assert "window 2026-11-21T00:00:00Z/2026-11-21T01:00:00Z" in text
    assert "window none (every row)" in text  # the baseline's run read every row
    churn = found.model("churn")
    assert churn is not None
    assert model_row(churn, datetime.now(timezone.utc))["production"] == (
        f"none recorded; PR #1 proposes {PROMOTED_JOB}"
    )
