"""`retrain merge PR`: a pull request the local stack opened is merged into the checkout, as a
merge on GitHub would: its files committed onto its base branch, the PR marked merged."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from retrain.cli.main import main
from retrain.codehost.local import LocalPull


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout on main with one spec, and the local code host's PR #1 editing it."""
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    (repo / "specs" / "churn.yaml").write_text("promotion: {version: old}\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "specs")
    git(repo, "commit", "-q", "-m", "specs")
    pr = tmp_path / "work" / "codehost" / "pr-1"
    (pr / "files" / "specs").mkdir(parents=True)
    (pr / "files" / "specs" / "churn.yaml").write_text("promotion: {version: churn-data-7}\n")
    pull = LocalPull(
        number=1, title="Promote churn to churn-data-7", body="", head="retrain/promote-churn",
        base="main", labels=["retrain"],
    )  # fmt: skip
    (pr / "pull.json").write_text(pull.model_dump_json())
    monkeypatch.setenv("RETRAIN_REPO_ROOT", str(repo))
    monkeypatch.chdir(tmp_path)
    return repo


def test_merge_commits_the_pull_requests_files_onto_its_base(repo: Path) -> None:
    assert main(["merge", "1", "--workdir", "work"]) == 0
    assert (repo / "specs" / "churn.yaml").read_text() == "promotion: {version: churn-data-7}\n"
    log = git(repo, "log", "--format=%s%n%b", "-1")
    assert "Merge pull request #1 from retrain/promote-churn" in log
    assert "Promote churn to churn-data-7" in log
    assert git(repo, "status", "--porcelain") == ""
    pull = LocalPull.model_validate_json(
        (repo.parent / "work" / "codehost" / "pr-1" / "pull.json").read_text()
    )
    assert pull.state == "merged" and pull.merged_by and pull.merged_at


def test_a_merged_pull_request_is_not_merged_twice(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["merge", "1", "--workdir", "work"]) == 0
    assert main(["merge", "1", "--workdir", "work"]) == 2
    assert "retrain merge: pull request #1 is merged, not open" in capsys.readouterr().err


def test_the_base_branch_must_be_checked_out(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    assert main(["merge", "1", "--workdir", "work"]) == 2
    err = capsys.readouterr().err
    assert "merges into main, but" in err and "`git checkout main` first" in err
    assert (repo / "specs" / "churn.yaml").read_text() == "promotion: {version: old}\n"


def test_an_unknown_pull_request_is_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["merge", "9", "--workdir", "work"]) == 2
    assert "retrain merge: no pull request in work/codehost/pr-9" in capsys.readouterr().err
