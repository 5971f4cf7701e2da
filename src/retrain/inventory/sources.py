"""The read ports the inventory uses beside the service's own, and their local adapters.

The service's ports (run backend, state store, blob store, code host) answer what the service
needs to act; reading an inventory needs a few lists on top: a spec's runs, its pull requests,
the decisions logged for it, and its file's history in git. Each is a small Protocol here; the
cloud adapters are in `retrain.inventory.cloud`, and `retrain.wiring` picks one of each.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from retrain.backends.base import JobInfo
from retrain.codehost.local import LocalIssue, LocalPull
from retrain.errors import BackendError, ConfigError, SpecError
from retrain.inventory.model import Decided, Notice, Pull, PullState, SpecCommit
from retrain.report.notice import notice_spec
from retrain.routing.decision import Decision
from retrain.spec.load import parse_spec
from retrain.state.base import SpecState

GIT_TIMEOUT = 60
R = TypeVar("R", bound=BaseModel)
PULL_STATES: dict[str, PullState] = {"open": "open", "closed": "closed", "merged": "merged"}


class RunLister(Protocol):
    def jobs(self, spec: str) -> list[JobInfo]:
        """The spec's pipeline jobs the backend still knows, any state."""
        ...


class PullReader(Protocol):
    """The code host, read: the service's pull requests and its open failure notices."""

    def pulls(self) -> list[Pull]:
        """Pull requests the service opened or commented on (open, closed and merged)."""
        ...

    def notices(self) -> list[Notice]:
        """Open failure notices (issues whose body starts with a notice marker)."""
        ...


class DecisionReader(Protocol):
    def decisions(self) -> list[Decided]:
        """Every decision still recorded, oldest first."""
        ...


class SpecHistory(Protocol):
    def commits(self, path: str) -> list[SpecCommit]:
        """Commits that changed `path` (inside the repository), newest first."""
        ...

    def where(self) -> str:
        """The revision read, for the reader ("git HEAD of DIR")."""
        ...


class StateReader(Protocol):
    def read(self, spec: str) -> SpecState | None:
        """The spec's counters; None when it has none yet (the state store port's read)."""
        ...


# -- local adapters ---------------------------------------------------------------------------


def local_workdir(workdir: Path) -> tuple[Path, list[str]]:
    """The work directory to read, and a note when it is not the one asked for: the default
    `work/` holds nothing but `make demo` left its facts in `work/demo`."""
    demo = workdir / "demo"
    if not (workdir / "_jobs").is_dir() and (demo / "runs" / "_jobs").is_dir():
        return demo, [f"{workdir} has no runs; reading the demo's facts in {demo}"]
    return workdir, []


class LocalPulls:
    """The local code host's files: `<workdir>/codehost/pr-<n>/pull.json`."""

    def __init__(self, codehost_dir: Path) -> None:
        self.root = codehost_dir

    def _records(self, pattern: str, model: type[R], what: str) -> Iterator[tuple[Path, R]]:
        for path in sorted(self.root.glob(pattern)):
            try:
                yield path, model.model_validate_json(path.read_bytes())
            except (OSError, ValidationError) as exc:
                raise BackendError(f"{path}: not {what}: {exc}") from exc

    def pulls(self) -> list[Pull]:
        found = []
        for path, pull in self._records("pr-*/pull.json", LocalPull, "a pull request record"):
            state = PULL_STATES.get(pull.state)
            if state is None:
                raise BackendError(
                    f"{path}: state: {pull.state!r} is not one of {list(PULL_STATES)}"
                )
            found.append(
                Pull(
                    number=pull.number,
                    title=pull.title,
                    state=state,
                    head=pull.head,
                    url=path.parent.as_uri(),
                    labels=pull.labels,
                    merged_by=pull.merged_by,
                    merged_at=pull.merged_at,
                )
            )
        return found

    def notices(self) -> list[Notice]:
        found = []
        for path, issue in self._records("issues/*.json", LocalIssue, "an issue record"):
            spec = notice_spec(issue.body)
            if issue.state == "open" and spec is not None:
                found.append(
                    Notice(number=issue.number, spec=spec, title=issue.title, url=path.as_uri())
                )
        return found


class LogFileDecisions:
    """Decisions the local function servers logged: `<logs>/on_*.log`, one JSON object a line
    (the same lines Cloud Logging ingests from a deployed function's stdout)."""

    def __init__(self, logs_dir: Path) -> None:
        self.logs_dir = logs_dir

    def decisions(self) -> list[Decided]:
        return list(self._read())

    def _read(self) -> Iterator[Decided]:
        for log in sorted(self.logs_dir.glob("on_*.log")):
            text = log.read_text(encoding="utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), 1):
                record = _json_object(line)
                if record is not None and "decision" in record:
                    at = record.get("time")
                    yield decided_from(record, f"{log}:{number}", at if isinstance(at, str) else "")


def _json_object(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def decided_from(record: dict[str, Any], source: str, time: str = "") -> Decided:
    """A decision from its log record (`log_record`'s fields beside the Decision's); an error
    naming `source` when the record is not one."""
    fields = {k: record[k] for k in Decision.model_fields if k in record}
    try:
        return Decided(record=Decision.model_validate(fields), time=time, source=source)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BackendError(f"{source}: not a decision record: {where}: {first['msg']}") from exc


class Unavailable:
    """A source that cannot be read here (the local stack is not running, no credentials):
    every read says why, and the reports print it where the facts would be."""

    def __init__(self, why: str) -> None:
        self.why = why

    def read(self, spec: str) -> SpecState | None:
        raise BackendError(self.why)

    def pulls(self) -> list[Pull]:
        raise BackendError(self.why)

    def notices(self) -> list[Notice]:
        raise BackendError(self.why)


class GitSpecHistory:
    """`git log` and `git show` in a checkout; a directory that is not one is said to be so."""

    def __init__(self, repo: Path, rev: str = "HEAD") -> None:
        self.repo = repo
        self.rev = rev

    def _git(self, *args: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(self.repo), *args],
                capture_output=True,
                text=True,
                check=False,
                timeout=GIT_TIMEOUT,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"git: {exc}") from exc
        if done.returncode != 0:
            raise ConfigError(f"git {args[0]} in {self.repo}: {done.stderr.strip()}")
        return done.stdout

    def where(self) -> str:
        return f"git {self.rev} of {self.repo}"

    def _check_top(self) -> None:
        """`git -C DIR` also answers inside a checkout that merely contains DIR (the demo's
        sandbox sits in this repository's work/): only a checkout's top is its history."""
        top = Path(self._git("rev-parse", "--show-toplevel").strip()).resolve()
        if top != self.repo.resolve():
            raise ConfigError(f"{self.repo} is not a git checkout (it lies inside {top})")

    def commits(self, path: str) -> list[SpecCommit]:
        self._check_top()
        log = self._git("log", "--format=%H%x1f%aI%x1f%an%x1f%s", self.rev, "--", path)
        found = []
        for line in log.splitlines():
            sha, when, author, subject = [*line.split("\x1f"), "", "", ""][:4]
            found.append(
                SpecCommit(
                    sha=sha,
                    committed_at=when,
                    author=author,
                    subject=subject,
                    version=self._version_at(sha, path),
                )
            )
        return found

    def _version_at(self, sha: str, path: str) -> str | None:
        try:
            text = self._git("show", f"{sha}:{path}")
        except ConfigError:
            return None  # deleted in this commit
        try:
            return parse_spec(text, f"{path}@{sha[:12]}").promotion.version
        except SpecError:
            return None  # an invalid spec at that commit named no version anyone deployed
