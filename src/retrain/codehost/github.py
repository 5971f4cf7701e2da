"""The PyGithub adapter of the CodeHost port (its settings: `codehost.config.GitHubSettings`).

Authentication is a token (RETRAIN_GITHUB_TOKEN; on Cloud Functions, mount the Secret
Manager secret as that variable) or a GitHub App installation. Transient failures are
retried by PyGithub's GithubRetry: rate limits (403/429) for every request, waiting as long
as Retry-After or X-RateLimit-Reset ask, up to `max_rate_limit_wait`; 5xx answers and broken
or timed-out reads only for requests that are safe to repeat (a POST or PUT whose answer was
lost may have been carried out: repeating it would make a second comment or fail on a stale
sha). Past that, TransientError tells Pub/Sub to redeliver, and the whole upsert, which is
idempotent, runs again. PyGithub's and requests' errors become ours through the one table in
`retrain.vendor_errors`. The token is never logged: settings keep it in a SecretStr, and
PyGithub masks the Authorization header.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from github import Auth, Github, GithubIntegration, GithubRetry, UnknownObjectException
from github.Issue import Issue
from github.IssueComment import IssueComment
from github.Repository import Repository
from urllib3.util.retry import Retry

from retrain.codehost.config import GitHubSettings
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
from retrain.report.notice import NOTICE_LABELS
from retrain.vendor_errors import translated

log = logging.getLogger(__name__)
# Editing a comment, PR or ref sets absolute values, so PATCH is safe to retry too.
RETRIED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PUT", "TRACE", "POST", "PATCH"})
# ...but these may have been carried out when their answer is lost: retried on rate limits only.
UNSAFE_METHODS = frozenset({"POST", "PUT"})
RATE_LIMIT_STATUSES = (403, 429)


class SafeRetry(GithubRetry):
    """GithubRetry that repeats a POST or PUT only when GitHub refused it (rate limits)."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() in UNSAFE_METHODS and status_code not in RATE_LIMIT_STATUSES:
            return False
        return bool(super().is_retry(method, status_code, has_retry_after))

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> Retry:
        unsafe = method is not None and method.upper() in UNSAFE_METHODS
        if unsafe and error is not None and self._is_read_error(error):
            raise error  # sent, maybe done: leave it to a redelivery of the whole upsert
        return super().increment(method, url, response, error, _pool, _stacktrace)


def auth(settings: GitHubSettings) -> Auth.Auth:
    """A token, or a GitHub App installation (credentials were checked with the settings)."""
    settings.check_auth()
    if settings.uses_app:
        assert settings.app_private_key is not None and settings.app_installation_id is not None
        app = Auth.AppAuth(settings.app_id, settings.app_private_key.get_secret_value())
        return app.get_installation_auth(settings.app_installation_id)
    assert settings.token is not None
    return Auth.Token(settings.token.get_secret_value())


def build_client(settings: GitHubSettings) -> Github:
    """A lazy client: nothing is requested until the first call that needs an answer."""
    retry = SafeRetry(
        total=settings.retries,
        backoff_factor=settings.backoff_factor,
        backoff_max=30,
        max_rate_limit_wait=settings.max_rate_limit_wait,
        allowed_methods=RETRIED_METHODS,
        status_forcelist=[*range(500, 600), 429],
    )
    return Github(
        base_url=settings.api_url.rstrip("/"),
        auth=auth(settings),
        retry=retry,
        timeout=settings.timeout,
        lazy=True,
        seconds_between_requests=settings.seconds_between_requests or None,
        seconds_between_writes=settings.seconds_between_writes or None,
    )


def whoami(client: Github) -> str:
    """The login the client's comments are posted as: for a token, `GET /user`; for an App
    installation (which is no user), `<slug>[bot]` from `GET /app` with the App's JWT."""
    auth = client.requester.auth
    if isinstance(auth, Auth.AppInstallationAuth):
        app_auth = auth._app_auth  # the AppAuth the installation token is minted with
        integration = GithubIntegration(**{**client.requester.kwargs, "auth": app_auth})
        return f"{integration.get_app().slug}[bot]"
    return str(client.get_user().login)


@dataclass
class GitHubCodeHost:
    """Finds and edits only comments written by its own identity: anyone can post a comment
    that starts with our marker, and editing theirs would fail (403) or leave their verdict."""

    client: Github
    repo_name: str
    bot_login: str = ""  # asked from GitHub on first use when empty

    def _repo(self) -> Repository:
        return self.client.get_repo(self.repo_name)

    def _me(self) -> str:
        if not self.bot_login:
            self.bot_login = whoami(self.client)
        return self.bot_login

    def upsert_comment(self, pr_number: int, marker: str, body: str) -> PostedComment:
        body = with_marker(marker, body)
        with translated(f"GitHub: comment on PR #{pr_number}"):
            issue = self._repo().get_issue(pr_number)
            marked = [c for c in issue.get_comments() if has_marker(c.body or "", marker)]
            # Who we are matters only once a marked comment exists (asked then, and once).
            ours = [c for c in marked if c.user is not None and c.user.login == self._me()]
            if not ours:
                comment = issue.create_comment(body)
                log.info("created comment %s on PR #%s", comment.id, pr_number)
                return self._one_comment(issue, marker, comment, body)
            first, *extra = ours
            if first.body != body:
                first.edit(body)
            for duplicate in extra:  # e.g. a create retried after a lost response
                duplicate.delete()
            log.info("updated comment %s on PR #%s", first.id, pr_number)
            return PostedComment(first.id, first.html_url, created=False)

    def _one_comment(
        self, issue: Issue, marker: str, created: IssueComment, body: str
    ) -> PostedComment:
        """After a create: another instance handling the same completion may have created
        its own between our list and our create. The oldest of the bot's marked comments is
        the one kept, whoever wrote it; ours goes if it is not that one, its text kept there.
        Both instances reach the same answer, so one comment remains."""
        me = self._me()
        ours = sorted(
            (
                c
                for c in issue.get_comments()
                if has_marker(c.body or "", marker) and c.user is not None and c.user.login == me
            ),
            key=lambda c: c.id,
        )
        if not ours or ours[0].id == created.id:
            return PostedComment(created.id, created.html_url, created=True)
        kept = ours[0]
        if kept.body != body:
            kept.edit(body)
        created.delete()
        log.info(
            "comment %s on PR #%s was a twin of %s: removed", created.id, issue.number, kept.id
        )
        return PostedComment(kept.id, kept.html_url, created=False)

    def _open_issue_with(self, repo: Repository, marker: str, label: str) -> Issue | None:
        """The open issue (not PR) carrying `label` whose body starts with `marker`, opened by
        this identity: anyone can open an issue with our marker, and the label can be added
        by anyone who triages. Who we are is learnt from GitHub when no login is configured."""
        for issue in repo.get_issues(state="open", labels=[label]):  # follows every page
            if issue.pull_request is not None or not has_marker(issue.body or "", marker):
                continue
            if issue.user is None or issue.user.login != self._me():
                continue
            return issue
        return None

    def open_or_update_issue(
        self, marker: str, title: str, body: str, labels: tuple[str, ...]
    ) -> PostedIssue:
        body = with_marker(marker, body)
        with translated("GitHub: failure notice"):
            repo = self._repo()
            issue = self._open_issue_with(repo, marker, labels[0]) if labels else None
            if issue is None:
                issue = repo.create_issue(title=title, body=body, labels=list(labels))
                log.info("opened notice issue #%s", issue.number)
                return self._one_issue(repo, marker, labels, issue, title, body)
            if issue.body != body or issue.title != title:
                issue.edit(title=title, body=body)
            log.info("updated notice issue #%s", issue.number)
            return PostedIssue(issue.number, issue.html_url, created=False)

    def _one_issue(
        self,
        repo: Repository,
        marker: str,
        labels: tuple[str, ...],
        created: Issue,
        title: str,
        body: str,
    ) -> PostedIssue:
        """After a create, as `_one_comment`: the oldest of the bot's open notices carrying
        the marker is kept (with the newest text); ours is closed if it is not that one."""
        me = self._me()
        ours = sorted(
            (
                i
                for i in repo.get_issues(state="open", labels=[labels[0]])
                if i.pull_request is None
                and has_marker(i.body or "", marker)
                and i.user is not None
                and i.user.login == me
            ),
            key=lambda i: i.number,
        )
        if not ours or ours[0].number == created.number:
            return PostedIssue(created.number, created.html_url, created=True)
        kept = ours[0]
        if kept.body != body or kept.title != title:
            kept.edit(title=title, body=body)
        created.edit(state="closed", state_reason="not_planned")
        log.info("notice issue #%s was a twin of #%s: closed", created.number, kept.number)
        return PostedIssue(kept.number, kept.html_url, created=False)

    def close_issue(self, marker: str, comment: str) -> PostedIssue | None:
        with translated("GitHub: close failure notice"):
            repo = self._repo()
            issue = self._open_issue_with(repo, marker, NOTICE_LABELS[0])
            if issue is None:
                return None
            issue.create_comment(comment)
            issue.edit(state="closed", state_reason="completed")
            log.info("closed notice issue #%s", issue.number)
            return PostedIssue(issue.number, issue.html_url, created=False)

    def open_or_update_promotion(self, request: PromotionRequest) -> PromotionPR | None:
        with translated(f"GitHub: propose promoting {request.spec}"):
            return self._propose(request.proposal())

    def open_or_update_proposal(self, proposal: FileProposal) -> PromotionPR | None:
        with translated(f"GitHub: propose {proposal.path} for {proposal.spec}"):
            return self._propose(proposal)

    def _propose(self, proposal: FileProposal) -> PromotionPR | None:
        repo = self._repo()
        base_sha = repo.get_branch(proposal.base).commit.sha
        base_file = repo.get_contents(proposal.path, ref=base_sha)
        if isinstance(base_file, list):
            raise BackendError(f"{proposal.path} is a directory on {proposal.base}")
        text = base_file.decoded_content.decode("utf-8")
        edited = proposal.edit(text)
        if edited == text:
            log.info("%s on %s already says it; nothing to propose", proposal.path, proposal.base)
            return None
        self._reset_branch(repo, proposal.branch, base_sha)
        repo.update_file(
            proposal.path, proposal.commit_message, edited, base_file.sha, branch=proposal.branch
        )
        owner = self.repo_name.split("/")[0]
        open_pulls = list(
            repo.get_pulls(state="open", head=f"{owner}:{proposal.branch}", base=proposal.base)
        )
        if open_pulls:
            pull = open_pulls[0]
            pull.edit(title=proposal.title, body=proposal.body)
            created = False
        else:
            pull = repo.create_pull(
                base=proposal.base, head=proposal.branch, title=proposal.title, body=proposal.body
            )
            created = True
        pull.add_to_labels(*proposal.labels)
        log.info(
            "%s PR #%s (%s) for %s",
            "opened" if created else "updated",
            pull.number,
            proposal.branch,
            proposal.spec,
        )
        return PromotionPR(pull.number, pull.html_url, created)

    @staticmethod
    def _reset_branch(repo: Repository, branch: str, sha: str) -> None:
        """The bot owns the branch: each candidate starts again from the tip of base."""
        try:
            ref = repo.get_git_ref(f"heads/{branch}")
            if ref.object.sha != sha:  # fetches the ref, which fixes its URL for the edit
                ref.edit(sha, force=True)
        except UnknownObjectException:
            repo.create_git_ref(f"refs/heads/{branch}", sha)
