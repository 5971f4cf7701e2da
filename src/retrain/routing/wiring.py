"""Build the Service from Settings: the real adapters, each created lazily.

Adapter modules are imported here, inside functions, so importing `functions/main.py` stays
as cheap as functions_framework itself (cold starts).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable

from retrain.backends.base import RunBackend
from retrain.routing.decision import DecisionLog, StdoutLog
from retrain.routing.index import SpecIndex, load_index
from retrain.routing.service import CompletionSink, LoggingSink, Service
from retrain.routing.settings import Settings
from retrain.state.base import StateStore


def default_sink() -> CompletionSink:
    """`retrain.completion.default_sink()` when that module exists, else a logging sink."""
    try:
        module = importlib.import_module("retrain.completion")
    except ModuleNotFoundError as exc:
        if exc.name != "retrain.completion":
            raise
        return LoggingSink()
    sink: CompletionSink = module.default_sink()
    return sink


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


def build_service(
    settings: Settings,
    *,
    log: DecisionLog | None = None,
    sink: Callable[[], CompletionSink] = default_sink,
) -> Service:
    @functools.cache
    def index() -> SpecIndex:
        return load_index(settings.specs_dir)

    return Service(
        index=index,
        store=build_store(settings),
        backend=build_backend(settings),
        sink=functools.cache(sink),
        log=log or StdoutLog(),
        git_sha=settings.git_sha,
    )
