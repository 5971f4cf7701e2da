"""Failure notices through the code host: open or update the spec's one issue, close it on
the next success. The routing service and the completion handler both report here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from retrain.codehost.port import CodeHost, PostedIssue
from retrain.report.notice import (
    NOTICE_LABELS,
    Incident,
    notice_marker,
    notice_title,
    render_notice,
    render_resolved,
)

log = logging.getLogger(__name__)


class NoticeSink(Protocol):
    def report(self, problem: Incident) -> None: ...

    def resolve(self, spec: str, job_id: str) -> None: ...


@dataclass
class Notices:
    host: CodeHost
    owner_of: Callable[[str], str]  # the spec's `owner`, empty when unknown

    def report(self, problem: Incident) -> None:
        posted = self.host.open_or_update_issue(
            notice_marker(problem.spec),
            notice_title(problem),
            render_notice(problem, self.owner_of(problem.spec)),
            NOTICE_LABELS,
        )
        log.warning("notice for %s: issue #%s (%s)", problem.spec, posted.number, problem.kind)

    def resolve(self, spec: str, job_id: str) -> None:
        closed: PostedIssue | None = self.host.close_issue(
            notice_marker(spec), render_resolved(job_id)
        )
        if closed is not None:
            log.info("notice for %s closed: issue #%s", spec, closed.number)


class NoNotices:
    """Where no code host is configured (`retrain route`): notices go to the log only."""

    def report(self, problem: Incident) -> None:
        log.warning("notice for %s: %s", problem.spec, problem.summary)

    def resolve(self, spec: str, job_id: str) -> None:
        del spec, job_id
