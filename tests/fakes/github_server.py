"""A small, stateful GitHub REST server on 127.0.0.1 for driving real PyGithub over HTTP.

It keeps issues, pull requests, comments, labels, branches and file contents in memory, and
answers in GitHub's REST shapes with every URL pointing at its own host:port (PyGithub
refuses to follow URLs to other hosts). Tests script failures (`fail_next`) and read what
was asked (`requests`). Like PyGithub's ReplayData, the Authorization header is never
recorded: only which kind of credential was presented.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

Json = Any
NOW = "2026-11-26T12:00:00Z"


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it. `auth` is a kind (token, app-jwt, installation)."""

    method: str
    path: str
    query: dict[str, str]
    body: Json
    status: int
    auth: str
    at: float


@dataclass
class Scripted:
    method: str
    path: re.Pattern[str]
    status: int
    body: Json
    headers: dict[str, str]


@dataclass(frozen=True)
class Page:
    """One page of a list, with GitHub's Link header to the others."""

    items: list[Json]
    link: str


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


@dataclass
class _State:
    owner: str
    name: str
    default_branch: str = "main"
    commits: dict[str, dict[str, str]] = field(default_factory=dict)  # sha -> {path: text}
    refs: dict[str, str] = field(default_factory=dict)  # branch -> commit sha
    issues: dict[int, dict[str, Json]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Json]] = field(default_factory=dict)
    comments: dict[int, dict[str, Json]] = field(default_factory=dict)
    next_issue: int = 1
    next_comment: int = 1001


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeGitHub:
    """`with FakeGitHub(files={...}) as gh:` then point PyGithub at `gh.base_url`."""

    def __init__(
        self,
        repo: str = "acme/models",
        files: dict[str, str] | None = None,
        tokens: dict[str, str] | None = None,
        app_id: str = "4242",
        installation_id: int = 77,
    ) -> None:
        owner, name = repo.split("/")
        self.state = _State(owner, name)
        root = _sha(json.dumps(files or {}, sort_keys=True))
        self.state.commits[root] = dict(files or {})
        self.state.refs["main"] = root
        self.tokens = dict(tokens or {"test-token-not-a-secret": "retrain-bot"})
        self.app_id = app_id
        self.installation_id = installation_id
        self.installation_token = "ghs_fake_installation_token"
        self.requests: list[Recorded] = []
        self._scripted: list[Scripted] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # test helpers ------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        body: Json = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `method` request whose path matches the regex `path` with this."""
        self._scripted.append(
            Scripted(
                method, re.compile(path), status, body or {"message": "scripted"}, headers or {}
            )
        )

    def open_pr(
        self, title: str = "Change churn spec", head: str = "feature", user: str = "alice"
    ) -> int:
        with self._lock:
            number = self._new_issue(title, "", user)
            self.state.pulls[number] = {
                "head": head,
                "base": "main",
                "state": "open",
                "draft": False,
            }
            return number

    def merge_pr(self, number: int, by: str = "ada") -> None:
        """What merging on GitHub leaves: the PR closed, with merged_at and merged_by."""
        with self._lock:
            self.state.pulls[number].update(state="closed", merged_at=NOW, merged_by=by)

    def add_comment(self, number: int, body: str, user: str = "alice") -> int:
        with self._lock:
            return self._new_comment(number, body, user)

    def comments_on(self, number: int) -> list[dict[str, Json]]:
        with self._lock:
            return [dict(c) for c in self.state.comments.values() if c["issue"] == number]

    def file_on(self, branch: str, path: str) -> str | None:
        with self._lock:
            sha = self.state.refs.get(branch)
            return None if sha is None else self.state.commits[sha].get(path)

    def pull(self, number: int) -> dict[str, Json]:
        with self._lock:
            return {**self.state.issues[number], **self.state.pulls[number]}

    def open_pulls(self) -> list[int]:
        with self._lock:
            return [n for n, p in self.state.pulls.items() if p["state"] == "open"]

    def calls(self, method: str, path_regex: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.search(path_regex, r.path)]

    # state -------------------------------------------------------------------------------
    def _new_issue(self, title: str, body: str, user: str) -> int:
        number = self.state.next_issue
        self.state.next_issue += 1
        self.state.issues[number] = {"title": title, "body": body, "labels": [], "user": user}
        return number

    def _new_comment(self, number: int, body: str, user: str) -> int:
        cid = self.state.next_comment
        self.state.next_comment += 1
        self.state.comments[cid] = {
            "id": cid,
            "issue": number,
            "body": body,
            "user": user,
            "created_at": NOW,
            "updated_at": NOW,
        }
        return cid

    # REST shapes -------------------------------------------------------------------------
    @property
    def _repo_api(self) -> str:
        return f"{self.base_url}/repos/{self.state.owner}/{self.state.name}"

    @property
    def _repo_html(self) -> str:
        return f"{self.base_url}/{self.state.owner}/{self.state.name}"

    def _user(self, login: str) -> Json:
        bot = login.endswith("[bot]")
        return {
            "login": login,
            "id": abs(hash(login)) % 100000,
            "type": "Bot" if bot else "User",
            "url": f"{self.base_url}/users/{login}",
            "html_url": f"{self.base_url}/{login}",
        }

    def _comment_json(self, c: dict[str, Json]) -> Json:
        return {
            "id": c["id"],
            "node_id": f"IC_{c['id']}",
            "url": f"{self._repo_api}/issues/comments/{c['id']}",
            "html_url": f"{self._repo_html}/pull/{c['issue']}#issuecomment-{c['id']}",
            "issue_url": f"{self._repo_api}/issues/{c['issue']}",
            "body": c["body"],
            "user": self._user(c["user"]),
            "created_at": c["created_at"],
            "updated_at": c["updated_at"],
            "author_association": "NONE",
        }

    def _issue_json(self, number: int) -> Json:
        """The issue resource ("Get an issue", REST reference, Issues): pull requests are
        issues too, and carry a `pull_request` object in this shape."""
        issue = self.state.issues[number]
        pull = self.state.pulls.get(number)
        state = pull["state"] if pull else issue.get("state", "open")
        found: Json = {
            "id": 700000 + number,
            "node_id": f"I_{number}",
            "number": number,
            "url": f"{self._repo_api}/issues/{number}",
            "html_url": f"{self._repo_html}/{'pull' if pull else 'issues'}/{number}",
            "comments_url": f"{self._repo_api}/issues/{number}/comments",
            "title": issue["title"],
            "body": issue["body"],
            "state": state,
            "state_reason": issue.get("state_reason"),
            "labels": [self._label_json(n) for n in issue["labels"]],
            "user": self._user(issue["user"]),
            "comments": sum(1 for c in self.state.comments.values() if c["issue"] == number),
            "created_at": NOW,
            "updated_at": NOW,
            "closed_at": None if state == "open" else NOW,
        }
        if pull:
            found["pull_request"] = {
                "url": f"{self._repo_api}/pulls/{number}",
                "html_url": f"{self._repo_html}/pull/{number}",
            }
        return found

    def issues_titled(self, title: str) -> list[dict[str, Json]]:
        """Issues (not PRs) with this title, as GitHub would list them, oldest first."""
        with self._lock:
            return [
                self._issue_json(n)
                for n, i in self.state.issues.items()
                if n not in self.state.pulls and i["title"] == title
            ]

    def _label_json(self, name: str) -> Json:
        return {
            "id": abs(hash(name)) % 100000,
            "name": name,
            "color": "ededed",
            "default": False,
            "url": f"{self._repo_api}/labels/{name}",
        }

    def _branch_side(self, branch: str) -> Json:
        return {
            "label": f"{self.state.owner}:{branch}",
            "ref": branch,
            "sha": self.state.refs.get(branch, ""),
        }

    def _pull_json(self, number: int, full: bool = False) -> Json:
        """A list item, or with `full` the single-PR answer, which alone carries `merged` and
        `merged_by` (GitHub REST: "List pull requests" and "Get a pull request" schemas)."""
        issue, pull = self.state.issues[number], self.state.pulls[number]
        merged_by = pull.get("merged_by")
        detail: dict[str, Json] = {
            "merged": merged_by is not None,
            "merged_by": self._user(merged_by) if merged_by else None,
        }
        return {
            "id": 500000 + number,
            "number": number,
            "url": f"{self._repo_api}/pulls/{number}",
            "html_url": f"{self._repo_html}/pull/{number}",
            "issue_url": f"{self._repo_api}/issues/{number}",
            "comments_url": f"{self._repo_api}/issues/{number}/comments",
            "state": pull["state"],
            "draft": pull["draft"],
            "title": issue["title"],
            "body": issue["body"],
            "labels": [self._label_json(n) for n in issue["labels"]],
            "user": self._user(issue["user"]),
            "head": self._branch_side(pull["head"]),
            "base": self._branch_side(pull["base"]),
            "merged_at": pull.get("merged_at"),
            **(detail if full else {}),
            "created_at": NOW,
            "updated_at": NOW,
        }

    def _ref_json(self, branch: str) -> Json:
        sha = self.state.refs[branch]
        return {
            "ref": f"refs/heads/{branch}",
            "node_id": f"REF_{branch}",
            "url": f"{self._repo_api}/git/refs/heads/{branch}",
            "object": {"type": "commit", "sha": sha, "url": f"{self._repo_api}/git/commits/{sha}"},
        }

    def _content_json(self, path: str, text: str, ref: str) -> Json:
        encoded = base64.encodebytes(text.encode()).decode()
        sha = _blob_sha(text)
        url = f"{self._repo_api}/contents/{path}?ref={ref}"
        return {
            "type": "file",
            "encoding": "base64",
            "size": len(text.encode()),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": encoded,
            "sha": sha,
            "url": url,
            "git_url": f"{self._repo_api}/git/blobs/{sha}",
            "html_url": f"{self._repo_html}/blob/{ref}/{path}",
            "download_url": f"{self._repo_html}/raw/{ref}/{path}",
            "_links": {"self": url, "git": f"{self._repo_api}/git/blobs/{sha}"},
        }

    # routing -----------------------------------------------------------------------------
    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., tuple[int, Json]]]]:
        repo = rf"/repos/{re.escape(self.state.owner)}/{re.escape(self.state.name)}"
        table: list[tuple[str, str, Callable[..., tuple[int, Json]]]] = [
            ("POST", r"/app/installations/(\d+)/access_tokens", self._access_token),
            ("GET", repo + r"/issues", self._list_issues),
            ("POST", repo + r"/issues", self._create_issue),
            ("GET", repo + r"/issues/(\d+)", self._get_issue),
            ("PATCH", repo + r"/issues/(\d+)", self._edit_issue),
            ("GET", r"/user", self._authenticated_user),
            ("GET", r"/app", self._authenticated_app),
            ("GET", repo + r"/issues/(\d+)/comments", self._list_comments),
            ("POST", repo + r"/issues/(\d+)/comments", self._create_comment),
            ("PATCH", repo + r"/issues/comments/(\d+)", self._edit_comment),
            ("DELETE", repo + r"/issues/comments/(\d+)", self._delete_comment),
            ("POST", repo + r"/issues/(\d+)/labels", self._add_labels),
            ("GET", repo + r"/branches/([^/]+)", self._get_branch),
            ("GET", repo + r"/contents/(.+)", self._get_contents),
            ("PUT", repo + r"/contents/(.+)", self._put_contents),
            ("GET", repo + r"/git/ref/heads/(.+)", self._get_ref),
            ("PATCH", repo + r"/git/refs/heads/(.+)", self._update_ref),
            ("POST", repo + r"/git/refs", self._create_ref),
            ("GET", repo + r"/pulls", self._list_pulls),
            ("GET", repo + r"/pulls/(\d+)", self._get_pull),
            ("POST", repo + r"/pulls", self._create_pull),
            ("PATCH", repo + r"/pulls/(\d+)", self._edit_pull),
        ]
        return [(m, re.compile(p + "$"), h) for m, p, h in table]

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body: Json = json.loads(raw) if raw else None
        auth = self._auth_kind(headers.get("authorization", ""), path)
        status, extra, payload = self._answer(method, path, query, body, auth)
        with self._lock:
            self.requests.append(Recorded(method, path, query, body, status, auth, time.time()))
        data = b"" if payload is None else json.dumps(payload).encode()
        return status, extra, data

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: Json, auth: str
    ) -> tuple[int, dict[str, str], Json]:
        with self._lock:
            for i, s in enumerate(self._scripted):
                if s.method == method and s.path.search(path):
                    del self._scripted[i]
                    return s.status, s.headers, s.body
        if auth == "none":
            return 401, {}, {"message": "Bad credentials"}
        for m, pattern, handler in self._routes():
            match = pattern.match(path)
            if m == method and match:
                try:
                    with self._lock:
                        status, payload = handler(
                            *match.groups(), query=query, body=body, auth=auth
                        )
                    if isinstance(payload, Page):
                        extra = {"Link": payload.link} if payload.link else {}
                        return status, extra, payload.items
                    return status, {}, payload
                except HttpError as exc:
                    return exc.status, {}, {"message": exc.message}
        return 404, {}, {"message": "Not Found"}

    def _auth_kind(self, header: str, path: str) -> str:
        scheme, _, value = header.partition(" ")
        app_path = path == "/app" or path.startswith("/app/")
        if scheme.lower() == "bearer" and app_path and self._jwt_ok(value):
            return "app-jwt"
        if value == self.installation_token:
            return "installation"
        if value in self.tokens:
            return "token"
        return "none"

    def _jwt_ok(self, token: str) -> bool:
        parts = token.split(".")
        if len(parts) != 3:
            return False
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            return False
        return str(claims.get("iss")) == self.app_id

    def _login(self, auth: str) -> str:
        return "retrain-app[bot]" if auth == "installation" else next(iter(self.tokens.values()))

    # handlers ----------------------------------------------------------------------------
    def _authenticated_user(self, auth: str, **_: Any) -> tuple[int, Json]:
        # GET /user ("Get the authenticated user", REST users reference): an installation
        # token is not a user, and GitHub answers 403 "Resource not accessible by integration".
        if auth != "token":
            raise HttpError(403, "Resource not accessible by integration")
        return 200, self._user(self._login(auth))

    def _authenticated_app(self, auth: str, **_: Any) -> tuple[int, Json]:
        # GET /app ("Get the authenticated app", REST apps reference): only with the App's JWT;
        # its bot user is "<slug>[bot]" (what `_login` names for installation tokens).
        if auth != "app-jwt":
            raise HttpError(401, "A JSON web token could not be decoded")
        slug = "retrain-app"
        return 200, {
            "id": int(self.app_id),
            "slug": slug,
            "node_id": f"A_{self.app_id}",
            "client_id": f"Iv1.{self.app_id}",
            "owner": self._user(self.state.owner),
            "name": "retrain app",
            "description": "",
            "external_url": "https://retrain.example",
            "html_url": f"{self.base_url}/apps/{slug}",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "permissions": {"issues": "write", "pull_requests": "write", "contents": "write"},
            "events": [],
        }

    def _access_token(self, installation: str, **_: Any) -> tuple[int, Json]:
        if int(installation) != self.installation_id:
            raise HttpError(404, "Not Found")
        return 201, {
            "token": self.installation_token,
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)),
            "permissions": {"issues": "write", "pull_requests": "write", "contents": "write"},
            "repository_selection": "selected",
        }

    def _issue(self, number: str) -> int:
        n = int(number)
        if n not in self.state.issues:
            raise HttpError(404, "Not Found")
        return n

    def _list_issues(self, query: dict[str, str], **_: Any) -> tuple[int, Json]:
        """ "List repository issues": `state` open (default), closed or all; `labels` a
        comma-separated list that every issue must carry; pull requests are listed too."""
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise HttpError(422, "Validation Failed: state")
        wanted = [name for name in query.get("labels", "").split(",") if name]
        found = []
        for n in sorted(self.state.issues):
            item = self._issue_json(n)
            if state != "all" and item["state"] != state:
                continue
            if any(name not in self.state.issues[n]["labels"] for name in wanted):
                continue
            found.append(item)
        return 200, found

    def _create_issue(self, body: Json, auth: str, **_: Any) -> tuple[int, Json]:
        """ "Create an issue": `title` is required (422 otherwise); labels are created on
        the fly for a caller with push access."""
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("title"), str)
            or not body["title"]
        ):
            raise HttpError(422, "Validation Failed: title is missing")
        text = body.get("body") or ""
        if len(text) > 65536:
            raise HttpError(
                422, "Validation Failed: body is too long (maximum is 65536 characters)"
            )
        n = self._new_issue(body["title"], text, self._login(auth))
        self.state.issues[n]["labels"] = [str(name) for name in body.get("labels") or []]
        self.state.issues[n]["state"] = "open"
        return 201, self._issue_json(n)

    def _get_issue(self, number: str, **_: Any) -> tuple[int, Json]:
        return 200, self._issue_json(self._issue(number))

    def _edit_issue(self, number: str, body: Json, **_: Any) -> tuple[int, Json]:
        """ "Update an issue": title, body, labels; `state` open or closed, `state_reason`
        completed, not_planned or reopened."""
        n = self._issue(number)
        issue = self.state.issues[n]
        if body.get("state") not in (None, "open", "closed"):
            raise HttpError(422, "Validation Failed: state")
        if body.get("state_reason") not in (None, "completed", "not_planned", "reopened"):
            raise HttpError(422, "Validation Failed: state_reason")
        for key in ("title", "body", "labels", "state_reason"):
            if key in body:
                issue[key] = body[key]
        if "state" in body:
            if n in self.state.pulls:
                self.state.pulls[n]["state"] = body["state"]
            else:
                issue["state"] = body["state"]
        return 200, self._issue_json(n)

    def _list_comments(self, number: str, query: dict[str, str], **_: Any) -> tuple[int, Json]:
        n = self._issue(number)
        items = [self._comment_json(c) for c in self.state.comments.values() if c["issue"] == n]
        per_page = min(int(query.get("per_page", "30")), 100)
        page = int(query.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        url = f"{self._repo_api}/issues/{n}/comments?per_page={per_page}"
        links = []
        if page < last:
            links.append(f'<{url}&page={page + 1}>; rel="next"')
            links.append(f'<{url}&page={last}>; rel="last"')
        if page > 1:
            links.append(f'<{url}&page=1>; rel="first"')
            links.append(f'<{url}&page={page - 1}>; rel="prev"')
        return 200, Page(chunk, ", ".join(links))

    def _create_comment(self, number: str, body: Json, auth: str, **_: Any) -> tuple[int, Json]:
        n = self._issue(number)
        if not isinstance(body, dict) or not isinstance(body.get("body"), str):
            raise HttpError(422, "Invalid request. body is missing")
        if len(body["body"]) > 65536:
            raise HttpError(
                422, "Validation Failed: body is too long (maximum is 65536 characters)"
            )
        cid = self._new_comment(n, body["body"], self._login(auth))
        return 201, self._comment_json(self.state.comments[cid])

    def _own_comment(self, cid: str, auth: str) -> dict[str, Json]:
        comment = self.state.comments.get(int(cid))
        if comment is None:
            raise HttpError(404, "Not Found")
        if comment["user"] != self._login(auth):
            raise HttpError(403, "Resource not accessible by integration")
        return comment

    def _edit_comment(self, cid: str, body: Json, auth: str, **_: Any) -> tuple[int, Json]:
        comment = self._own_comment(cid, auth)
        comment["body"] = body["body"]
        comment["updated_at"] = "2026-11-26T12:30:00Z"
        return 200, self._comment_json(comment)

    def _delete_comment(self, cid: str, auth: str, **_: Any) -> tuple[int, Json]:
        self._own_comment(cid, auth)
        del self.state.comments[int(cid)]
        return 204, None

    def _add_labels(self, number: str, body: Json, **_: Any) -> tuple[int, Json]:
        n = self._issue(number)
        names = body if isinstance(body, list) else body.get("labels", [])
        labels = self.state.issues[n]["labels"]
        labels.extend(name for name in names if name not in labels)
        return 200, [self._label_json(name) for name in labels]

    def _get_branch(self, branch: str, **_: Any) -> tuple[int, Json]:
        if branch not in self.state.refs:
            raise HttpError(404, "Branch not found")
        sha = self.state.refs[branch]
        return 200, {
            "name": branch,
            "commit": {"sha": sha, "url": f"{self._repo_api}/commits/{sha}"},
            "protected": False,
            "_links": {
                "self": f"{self._repo_api}/branches/{branch}",
                "html": f"{self._repo_html}/tree/{branch}",
            },
        }

    def _resolve(self, ref: str) -> str:
        if ref in self.state.refs:
            return self.state.refs[ref]
        if ref in self.state.commits:
            return ref
        raise HttpError(404, f"No commit found for the ref {ref}")

    def _get_contents(self, path: str, query: dict[str, str], **_: Any) -> tuple[int, Json]:
        ref = query.get("ref", self.state.default_branch)
        tree = self.state.commits[self._resolve(ref)]
        if path not in tree:
            raise HttpError(404, "Not Found")
        return 200, self._content_json(path, tree[path], ref)

    def _put_contents(self, path: str, body: Json, **_: Any) -> tuple[int, Json]:
        branch = body.get("branch", self.state.default_branch)
        if branch not in self.state.refs:
            raise HttpError(404, f"Branch {branch} not found")
        tree = dict(self.state.commits[self.state.refs[branch]])
        if path in tree and body.get("sha") != _blob_sha(tree[path]):
            raise HttpError(409, f"{path} does not match {body.get('sha')}")
        tree[path] = base64.b64decode(body["content"]).decode()
        sha = _sha(self.state.refs[branch] + body["message"] + json.dumps(tree, sort_keys=True))
        self.state.commits[sha] = tree
        self.state.refs[branch] = sha
        return 200, {
            "content": self._content_json(path, tree[path], branch),
            "commit": {
                "sha": sha,
                "url": f"{self._repo_api}/git/commits/{sha}",
                "message": body["message"],
            },
        }

    def _get_ref(self, branch: str, **_: Any) -> tuple[int, Json]:
        if branch not in self.state.refs:
            raise HttpError(404, "Not Found")
        return 200, self._ref_json(branch)

    def _update_ref(self, branch: str, body: Json, **_: Any) -> tuple[int, Json]:
        if branch not in self.state.refs:
            raise HttpError(422, "Reference does not exist")
        self._resolve(body["sha"])
        self.state.refs[branch] = body["sha"]
        return 200, self._ref_json(branch)

    def _create_ref(self, body: Json, **_: Any) -> tuple[int, Json]:
        ref = body.get("ref", "")
        if not ref.startswith("refs/heads/"):
            raise HttpError(422, "Reference name must start with refs/")
        branch = ref.removeprefix("refs/heads/")
        if branch in self.state.refs:
            raise HttpError(422, "Reference already exists")
        self._resolve(body["sha"])
        self.state.refs[branch] = body["sha"]
        return 201, self._ref_json(branch)

    def _list_pulls(self, query: dict[str, str], **_: Any) -> tuple[int, Json]:
        found = []
        for n, pull in self.state.pulls.items():
            if query.get("state", "open") not in ("all", pull["state"]):
                continue
            if "head" in query and query["head"] != f"{self.state.owner}:{pull['head']}":
                continue
            if "base" in query and query["base"] != pull["base"]:
                continue
            found.append(self._pull_json(n))
        return 200, found

    def _get_pull(self, number: str, **_: Any) -> tuple[int, Json]:
        n = int(number)
        if n not in self.state.pulls:
            raise HttpError(404, "Not Found")
        return 200, self._pull_json(n, full=True)

    def _create_pull(self, body: Json, auth: str, **_: Any) -> tuple[int, Json]:
        head, base = body.get("head", ""), body.get("base", "")
        if head not in self.state.refs or base not in self.state.refs:
            raise HttpError(422, "Validation Failed: head or base does not exist")
        if self.state.refs[head] == self.state.refs[base]:
            raise HttpError(422, f"Validation Failed: No commits between {base} and {head}")
        if any(p["head"] == head and p["state"] == "open" for p in self.state.pulls.values()):
            raise HttpError(422, f"Validation Failed: A pull request already exists for {head}.")
        n = self._new_issue(body.get("title", ""), body.get("body", ""), self._login(auth))
        self.state.pulls[n] = {
            "head": head,
            "base": base,
            "state": "open",
            "draft": bool(body.get("draft")),
        }
        return 201, self._pull_json(n)

    def _edit_pull(self, number: str, body: Json, **_: Any) -> tuple[int, Json]:
        n = int(number)
        if n not in self.state.pulls:
            raise HttpError(404, "Not Found")
        for key in ("title", "body"):
            if key in body:
                self.state.issues[n][key] = body[key]
        if "state" in body:
            self.state.pulls[n]["state"] = body["state"]
        return 200, self._pull_json(n)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, data = fake.handle(self.command, self.path, headers, raw)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-RateLimit-Limit", "5000")
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Silent: the request log is `fake.requests`, without credentials."""

        return Handler
