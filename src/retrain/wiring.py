"""The composition root: every adapter, built from Settings in one place.

    functions/main.py ─► settings ─► wiring ─► Service (handlers) ─► pure core ─► ports

Adapter modules are imported inside the builders, so importing `functions/main.py` stays as
cheap as functions_framework itself (cold starts), and a local run never imports a cloud SDK
it does not use. Nothing here sends a request: clients connect at first use.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

from retrain.backends.base import RunBackend
from retrain.codehost.port import CodeHost
from retrain.completion import CompletionHandler
from retrain.completion.notices import Notices
from retrain.routing.decision import DecisionLog, StdoutLog
from retrain.routing.index import SpecIndex, load_index
from retrain.routing.service import Service
from retrain.settings import Settings
from retrain.state.base import StateStore


def build_store(settings: Settings) -> StateStore:
    if settings.state == "memory":
        from retrain.state.memory import MemoryStore

        return MemoryStore()
    from retrain.state.firestore import FirestoreStore

    return FirestoreStore(project=settings.project, prefix=settings.state_prefix)


def build_backend(settings: Settings) -> RunBackend:
    if settings.backend == "vertex":
        from retrain.backends.vertex import VertexBackend

        return VertexBackend(
            project=settings.project,
            region=settings.region,
            template_uri=settings.template_uri,
            pipeline_root=settings.pipeline_root,
            service_account=settings.service_account,
            api_endpoint=settings.vertex_endpoint,
        )
    from retrain.backends.local import LocalBackend, PubSubPublisher

    return LocalBackend(
        workdir=settings.workdir.resolve(),
        specs_dir=settings.specs_dir.resolve(),
        project=settings.project,
        region=settings.region,
        completion_topic=settings.completion_topic,
        publisher=PubSubPublisher(settings.project),
        command=settings.run_command(),
    )


def build_codehost(settings: Settings) -> CodeHost:
    if settings.codehost_kind == "local":
        from retrain.codehost.local import LocalCodeHost

        return LocalCodeHost(settings.workdir, settings.repo_root or Path("."), sys.stdout)
    from retrain.codehost.github import GitHubCodeHost, build_client

    github = settings.github()
    return GitHubCodeHost(build_client(github), github.repo, github.bot_login)


def build_completion(settings: Settings, notices: Notices | None = None) -> CompletionHandler:
    """The completion sink: comments, promotion PRs and failure notices. Builds clients but
    sends nothing yet."""
    if notices is None:
        notices = build_notices(settings, functools.cache(lambda: load_index(settings.specs_dir)))
    return CompletionHandler(
        host=notices.host,
        history_root=settings.history_uri,
        specs_dir=_in_repository(settings.specs_dir, settings.repo_root or Path(".")),
        base_branch=settings.base_branch,
        notices=notices,
    )


def build_notices(settings: Settings, index: Callable[[], SpecIndex]) -> Notices:
    """One failure notice per spec on the code host, mentioning the spec's owner."""

    def owner_of(name: str) -> str:
        spec = index().get(name)
        return spec.owner if spec else ""

    return Notices(build_codehost(settings), owner_of)


def _in_repository(specs_dir: Path, repo_root: Path) -> str:
    """The spec directory as a path inside the repository (promotion PRs edit files there)."""
    if not specs_dir.is_absolute():
        return str(specs_dir)
    try:
        return str(specs_dir.relative_to(repo_root.resolve()))
    except ValueError:
        return "specs"


def build_service(settings: Settings, *, log: DecisionLog | None = None) -> Service:
    @functools.cache
    def index() -> SpecIndex:
        return load_index(settings.specs_dir)

    notices = functools.cache(lambda: build_notices(settings, index))
    return Service(
        index=index,
        store=build_store(settings),
        backend=build_backend(settings),
        sink=functools.cache(lambda: build_completion(settings, notices())),
        log=log or StdoutLog(),
        git_sha=settings.git_sha,
        notices=notices,
    )
