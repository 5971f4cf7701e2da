"""The local stand-in for GitHub: each PR's comment thread as files under a work directory.

The local stack has no PRs to post on, so this keeps what would be posted where a developer
can read it (`work/codehost/pr-<n>/`), prints the thread after each change, and applies the
same rules as the GitHub adapter: one comment per marker, one open promotion PR per spec.
The repository checkout is never modified; a promotion writes the edited spec beside the PR.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel, ConfigDict

from retrain.codehost.port import (
    FileProposal,
    PostedComment,
    PostedIssue,
    PromotionPR,
    PromotionRequest,
    with_marker,
)
from retrain.errors import BackendError
from retrain.report.marker import has_marker


class LocalPull(BaseModel):
    model_config = ConfigDict(extra="ignore")

    number: int
    title: str
    body: str
    head: str
    base: str
    labels: list[str]
    state: str = "open"
    merged_by: str = ""  # set when merged (the demo's reviewer merges its promotion PR)
    merged_at: str = ""


class LocalIssue(BaseModel):
    """A failure notice, as `issues/<n>.json`; its comments are appended to the same file."""

    model_config = ConfigDict(extra="ignore")

    number: int
    title: str
    body: str
    labels: list[str]
    state: str = "open"
    comments: list[str] = []


class LocalCodeHost:
    def __init__(self, workdir: Path, repo_root: Path, out: TextIO | None = None) -> None:
        self.root = workdir / "codehost"
        self.repo_root = repo_root
        self.out = out

    def _pr_dir(self, number: int) -> Path:
        return self.root / f"pr-{number}"

    def comments(self, pr_number: int) -> list[tuple[int, str]]:
        folder = self._pr_dir(pr_number) / "comments"
        files = sorted(folder.glob("*.md")) if folder.is_dir() else []
        return [(int(f.stem), f.read_text(encoding="utf-8")) for f in files]

    def upsert_comment(self, pr_number: int, marker: str, body: str) -> PostedComment:
        body = with_marker(marker, body)
        folder = self._pr_dir(pr_number) / "comments"
        folder.mkdir(parents=True, exist_ok=True)
        existing = self.comments(pr_number)
        found = next((cid for cid, text in existing if has_marker(text, marker)), None)
        created = found is None
        cid = max((c for c, _ in existing), default=0) + 1 if found is None else found
        path = folder / f"{cid:04d}.md"
        path.write_text(body, encoding="utf-8")
        self._print_thread(pr_number)
        return PostedComment(cid, path.as_uri(), created)

    def open_or_update_promotion(self, request: PromotionRequest) -> PromotionPR | None:
        return self.open_or_update_proposal(request.proposal())

    def open_or_update_proposal(self, proposal: FileProposal) -> PromotionPR | None:
        source = self.repo_root / proposal.path
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise BackendError(f"cannot read {source} to propose a change: {exc}") from exc
        edited = proposal.edit(text)
        if edited == text:
            return None
        current = self._open_promotion(proposal.branch)
        number = current.number if current else self._next_number()
        pull = LocalPull(
            number=number,
            title=proposal.title,
            body=proposal.body,
            head=proposal.branch,
            base=proposal.base,
            labels=sorted({*(current.labels if current else []), *proposal.labels}),
        )
        folder = self._pr_dir(number)
        (folder / "files" / proposal.path).parent.mkdir(parents=True, exist_ok=True)
        (folder / "files" / proposal.path).write_text(edited, encoding="utf-8")
        (folder / "pull.json").write_text(pull.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return PromotionPR(number, folder.as_uri(), current is None)

    def issues(self) -> list[LocalIssue]:
        folder = self.root / "issues"
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        return [LocalIssue.model_validate_json(f.read_text(encoding="utf-8")) for f in files]

    def _save_issue(self, issue: LocalIssue) -> PostedIssue:
        path = self.root / "issues" / f"{issue.number:04d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(issue.model_dump_json(indent=2) + "\n", encoding="utf-8")
        out = self.out or sys.stdout
        out.write(f"== issue #{issue.number} ({issue.state}) in {path}: {issue.title}\n")
        out.write(f"{issue.body.rstrip()}\n")
        for comment in issue.comments:
            out.write(f"-- comment\n{comment.rstrip()}\n")
        out.flush()
        return PostedIssue(issue.number, path.as_uri(), created=False)

    def _open_issue(self, marker: str) -> LocalIssue | None:
        return next(
            (i for i in self.issues() if i.state == "open" and has_marker(i.body, marker)), None
        )

    def open_or_update_issue(
        self, marker: str, title: str, body: str, labels: tuple[str, ...]
    ) -> PostedIssue:
        body = with_marker(marker, body)
        current = self._open_issue(marker)
        if current is not None:
            return self._save_issue(current.model_copy(update={"title": title, "body": body}))
        number = max((i.number for i in self.issues()), default=0) + 1
        posted = self._save_issue(
            LocalIssue(number=number, title=title, body=body, labels=list(labels))
        )
        return PostedIssue(number, posted.url, created=True)

    def close_issue(self, marker: str, comment: str) -> PostedIssue | None:
        current = self._open_issue(marker)
        if current is None:
            return None
        return self._save_issue(
            current.model_copy(update={"state": "closed", "comments": [*current.comments, comment]})
        )

    def _pulls(self) -> list[LocalPull]:
        found = []
        for path in sorted(self.root.glob("pr-*/pull.json")):
            found.append(LocalPull.model_validate(json.loads(path.read_text(encoding="utf-8"))))
        return found

    def _open_promotion(self, branch: str) -> LocalPull | None:
        return next((p for p in self._pulls() if p.head == branch and p.state == "open"), None)

    def _next_number(self) -> int:
        numbers = [int(p.name.removeprefix("pr-")) for p in self.root.glob("pr-*")]
        return max(numbers, default=0) + 1

    def _print_thread(self, pr_number: int) -> None:
        out = self.out or sys.stdout
        comments = self.comments(pr_number)
        out.write(f"== PR #{pr_number}: {len(comments)} comment(s) in {self._pr_dir(pr_number)}\n")
        for cid, text in comments:
            out.write(f"-- comment {cid}\n{text.rstrip()}\n")
        out.flush()


def git(repo: Path, author: str, *args: str) -> str:
    """`git -C repo ARGS` committing as `author`; its stdout. A failure is a BackendError."""
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", f"user.name={author}",
         "-c", f"user.email={author}@localhost", *args],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    if done.returncode != 0:
        raise BackendError(f"git {args[0]} in {repo}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def merge_pull(repo: Path, pr_dir: Path, reviewer: str) -> str:
    """Merge a local pull request as GitHub would on its base branch: commit its files onto the
    base (which must be checked out in `repo`), mark it merged; return the merge commit. The
    only place a checkout is written on the local code host's behalf."""
    pull_file = pr_dir / "pull.json"
    try:
        pull = LocalPull.model_validate_json(pull_file.read_text(encoding="utf-8"))
    except OSError:
        raise BackendError(f"no pull request in {pr_dir}") from None
    if pull.state != "open":
        raise BackendError(f"pull request #{pull.number} is {pull.state}, not open")
    branch = git(repo, reviewer, "rev-parse", "--abbrev-ref", "HEAD").strip()
    if branch != pull.base:
        raise BackendError(
            f"pull request #{pull.number} merges into {pull.base}, but {repo} has {branch} "
            f"checked out: `git checkout {pull.base}` first"
        )
    files = pr_dir / "files"
    for path in sorted(p for p in files.rglob("*") if p.is_file()):
        target = repo / path.relative_to(files)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
        git(repo, reviewer, "add", str(path.relative_to(files)))
    message = f"Merge pull request #{pull.number} from {pull.head}"
    git(repo, reviewer, "commit", "-q", "-m", message, "-m", pull.title)
    merged = pull.model_copy(
        update={
            "state": "merged",
            "merged_by": reviewer,
            "merged_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
    pull_file.write_text(merged.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return git(repo, reviewer, "rev-parse", "HEAD").strip()
