"""The code host port: what the completion handler needs from GitHub, and nothing more.

Its operations are idempotent so a redelivered event converges instead of duplicating:
keep one comment per marker on a PR, one open promotion PR per spec, and one open failure
notice (an issue) per spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class PostedComment:
    id: int
    url: str
    created: bool  # False when an existing comment was edited in place


@dataclass(frozen=True)
class PromotionRequest:
    """Record `version` in the spec's promotion section on a branch, and propose it in a PR."""

    spec: str
    spec_path: str  # in the repository, e.g. specs/churn.yaml
    version: str
    title: str
    body: str
    base: str = "main"
    labels: tuple[str, ...] = field(default=("retrain", "promotion"))

    @property
    def branch(self) -> str:
        return f"retrain/promote-{self.spec}"

    @property
    def commit_message(self) -> str:
        return f"Promote {self.spec} to {self.version}"

    def proposal(self) -> FileProposal:
        from retrain.codehost.spec_edit import set_promotion_version

        return FileProposal(
            spec=self.spec,
            path=self.spec_path,
            branch=self.branch,
            title=self.title,
            body=self.body,
            commit_message=self.commit_message,
            edit=lambda text: set_promotion_version(text, self.version, self.spec_path),
            base=self.base,
            labels=self.labels,
        )


@dataclass(frozen=True)
class FileProposal:
    """Edit one file of base on the spec's own branch and propose it in a PR: a promotion
    (`PromotionRequest.proposal`) or a schema change. `edit` is pure; returning the text
    unchanged means there is nothing to propose."""

    spec: str
    path: str  # in the repository, e.g. specs/churn.schema.pbtxt
    branch: str
    title: str
    body: str
    commit_message: str
    edit: Callable[[str], str]
    base: str = "main"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class PromotionPR:
    number: int
    url: str
    created: bool  # False when the spec's open promotion PR was updated


@dataclass(frozen=True)
class PostedIssue:
    number: int
    url: str
    created: bool  # False when the open issue with the marker was edited (or closed)


class CodeHost(Protocol):
    def upsert_comment(self, pr_number: int, marker: str, body: str) -> PostedComment:
        """Edit the comment that starts with `marker` (any page), or add it if none does."""
        ...

    def open_or_update_promotion(self, request: PromotionRequest) -> PromotionPR | None:
        """Point the spec's promotion branch at base plus the edit; open or update its PR.

        None when base already records this version: there is nothing to propose.
        """
        ...

    def open_or_update_proposal(self, proposal: FileProposal) -> PromotionPR | None:
        """The same for any one-file proposal (a schema change PR); None when the edit
        changes nothing on base."""
        ...

    def open_or_update_issue(
        self, marker: str, title: str, body: str, labels: tuple[str, ...]
    ) -> PostedIssue:
        """Edit the open issue whose body starts with `marker`, or open one."""
        ...

    def close_issue(self, marker: str, comment: str) -> PostedIssue | None:
        """Comment on and close the open issue with `marker`; None when there is none."""
        ...


def with_marker(marker: str, body: str) -> str:
    """The body as posted: it must start with the marker, or it will not be found again."""
    return body if body.lstrip().startswith(marker) else f"{marker}\n{body}"
