"""The inventory's cloud readers: pull requests on GitHub, decisions in Cloud Logging.

Decisions reach Cloud Logging as the functions' structured stdout lines; this reads them back
with `gcloud logging read` and the query below (also usable by hand in the Logs Explorer).
"""

from __future__ import annotations

import json
from typing import Any

from retrain.errors import BackendError
from retrain.google.cloud_logging import CloudLogging
from retrain.inventory.model import Decided, Notice, Pull
from retrain.inventory.sources import decided_from
from retrain.report.notice import NOTICE_LABELS, notice_spec
from retrain.vendor_errors import translated

# Cloud Logging lifts "logging.googleapis.com/labels" of a structured line into the entry's
# labels (Cloud Logging: structured logging, special JSON fields).
DECISIONS_QUERY = 'labels."retrain-decision":*'
PULLS_READ = 100


def decisions_query(event_id: str = "") -> str:
    if not event_id:
        return DECISIONS_QUERY
    return f"{DECISIONS_QUERY} AND jsonPayload.event_id={json.dumps(event_id)}"


class CloudLoggingDecisions:
    """Decisions logged in the last `freshness` (gcloud's duration syntax), oldest first."""

    def __init__(self, logging: CloudLogging, freshness: str = "30d", limit: int = 5000):
        self._logging = logging
        self._freshness = freshness
        self._limit = limit

    def decisions(self) -> list[Decided]:
        entries = self._logging.read(DECISIONS_QUERY, self._freshness, self._limit)
        found = [_from_entry(entry, n) for n, entry in enumerate(entries)]
        return sorted(found, key=lambda d: d.time)


def _from_entry(entry: Any, number: int) -> Decided:
    """A LogEntry (`jsonPayload`, `timestamp`, `insertId`) holding a decision's log record."""
    where = f"Cloud Logging entry #{number}"
    if not isinstance(entry, dict) or not isinstance(entry.get("jsonPayload"), dict):
        raise BackendError(f"{where}: no jsonPayload object")
    where = f"Cloud Logging entry {entry.get('insertId', f'#{number}')}"
    return decided_from(entry["jsonPayload"], where, str(entry.get("timestamp", "")))


class GitHubPulls:
    """The service's pull requests on GitHub: branches `retrain/...` or the `retrain` label,
    the newest `PULLS_READ` of them (PyGithub pages through the list)."""

    def __init__(self, client: Any, repo: str) -> None:
        self._client = client
        self._repo = repo

    def pulls(self) -> list[Pull]:
        found = []
        with translated(f"github {self._repo} pulls"):
            repo = self._client.get_repo(self._repo)
            listed = repo.get_pulls(state="all", sort="created", direction="desc")
            for pull in listed[:PULLS_READ]:
                labels = [label.name for label in pull.labels]
                if not (pull.head.ref.startswith("retrain/") or "retrain" in labels):
                    continue
                merged = pull.merged_at is not None
                found.append(
                    Pull(
                        number=pull.number,
                        title=pull.title,
                        state="merged"
                        if merged
                        else ("open" if pull.state == "open" else "closed"),
                        head=pull.head.ref,
                        from_fork=self._from_fork(pull.head),
                        url=pull.html_url,
                        labels=labels,
                        author=pull.user.login if pull.user else "",
                        merged_by=pull.merged_by.login if merged and pull.merged_by else "",
                        merged_at=pull.merged_at.isoformat() if merged else "",
                        created_at=pull.created_at.isoformat() if pull.created_at else "",
                    )
                )
        return found

    def _from_fork(self, head: Any) -> bool:
        """Whether a PR's head is outside this repository. GitHub REST, pull request `head`:
        `label` is `owner:ref`, `repo` the head's repository (null once a fork is deleted).
        A repository's forks never share its owner, so the owner tells them apart."""
        owner, _, _ = str(head.label or "").partition(":")
        if owner.lower() != self._repo.split("/")[0].lower():
            return True
        repo = head.repo
        return repo is not None and str(repo.full_name).lower() != self._repo.lower()

    def notices(self) -> list[Notice]:
        """Open issues with the notice label whose body starts with a notice marker (the same
        search the code host makes before it opens one)."""
        found = []
        with translated(f"github {self._repo} notices"):
            repo = self._client.get_repo(self._repo)
            for issue in repo.get_issues(state="open", labels=[NOTICE_LABELS[-1]])[:PULLS_READ]:
                spec = notice_spec(issue.body or "")
                if issue.pull_request is not None or spec is None:
                    continue
                found.append(
                    Notice(number=issue.number, spec=spec, title=issue.title, url=issue.html_url)
                )
        return found
