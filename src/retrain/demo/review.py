"""The demo's reviewer: the sandbox is a git repository, and merging a promotion PR commits its
edited spec there, as a merge on GitHub would on main (`retrain.codehost.local.merge_pull`,
what `retrain merge` runs). Only the demo's sandbox is touched."""

from __future__ import annotations

from pathlib import Path

from retrain.codehost.local import git, merge_pull
from retrain.demo.observe import DemoError
from retrain.errors import BackendError

REVIEWER = "demo-reviewer"


def _git(repo: Path, *args: str) -> str:
    try:
        return git(repo, REVIEWER, *args)
    except BackendError as exc:
        raise DemoError(str(exc)) from exc


def init_repository(sandbox: Path) -> None:
    """The sandbox's specs as the first commit on main."""
    _git(sandbox, "init", "-q", "-b", "main")
    _git(sandbox, "add", "specs")
    _git(sandbox, "commit", "-q", "-m", "Specs of the demo")


def head(sandbox: Path) -> str:
    return _git(sandbox, "rev-parse", "HEAD").strip()


def commit_on_branch(sandbox: Path, branch: str, path: Path, text: str, message: str) -> str:
    """A pull request's commit: `path` rewritten on a new `branch`, which stays checked out
    (as CI checks out the PR) until `checkout_main`; returns the commit."""
    _git(sandbox, "checkout", "-q", "-b", branch)
    path.write_text(text, encoding="utf-8")
    _git(sandbox, "add", str(path.relative_to(sandbox)))
    _git(sandbox, "commit", "-q", "-m", message)
    return head(sandbox)


def checkout_main(sandbox: Path) -> None:
    _git(sandbox, "checkout", "-q", "main")


def merge_promotion(sandbox: Path, pr_dir: Path) -> str:
    """Commit the PR's files onto main and mark the PR merged; return the merge commit."""
    try:
        return merge_pull(sandbox, pr_dir, REVIEWER)
    except BackendError as exc:
        raise DemoError(str(exc)) from exc
