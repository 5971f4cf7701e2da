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
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

from retrain.backends.base import ProductionRuns, RunBackend
from retrain.baseline import ProductionBaselines
from retrain.blobs import Blobs
from retrain.codehost.port import CodeHost
from retrain.completion import CompletionHandler
from retrain.completion.alerts import AlertSink, NoAlerts, TopicAlerts
from retrain.completion.notices import Notices
from retrain.errors import ConfigError
from retrain.pipeline_env.process import PipelineEnv
from retrain.routing.decision import DecisionLog, StdoutLog
from retrain.routing.index import SpecIndex, load_index
from retrain.routing.service import Service
from retrain.settings import Settings
from retrain.state.base import StateStore

if TYPE_CHECKING:
    from retrain.backends.local import LocalBackend
    from retrain.delivery.candidate import Baselines, Changes
    from retrain.delivery.config import DeployConfig
    from retrain.delivery.promotions import ModelRegistry
    from retrain.google.storage import GcsStorage
    from retrain.inventory.gather import Sources
    from retrain.inventory.sources import DecisionReader, PullReader, RunLister, StateReader
    from retrain.spec.model import Spec


def build_pipeline_env(settings: Settings) -> PipelineEnv:
    """The checkout and the interpreter that runs `pipelines/` (RETRAIN_REPO_ROOT,
    RETRAIN_PIPELINES_PYTHON; by default found from the working directory)."""
    return PipelineEnv.found(settings.repo_root, settings.pipelines_python)


def build_blobs(project: str) -> Blobs:
    """Local paths, and gs:// through Cloud Storage in `project` (the client honours
    STORAGE_EMULATOR_HOST itself); the client is built at first use."""
    from retrain.google.clients import storage_client
    from retrain.google.storage import GcsStorage

    return Blobs(GcsStorage(lambda: storage_client(project)))


def build_store(settings: Settings) -> StateStore:
    if settings.state == "memory":
        from retrain.state.memory import MemoryStore

        return MemoryStore()
    from retrain.google.firestore import FirestoreStore

    return FirestoreStore(project=settings.project, prefix=settings.state_prefix)


def build_backend(settings: Settings) -> RunBackend:
    if settings.backend == "vertex":
        from retrain.google.template_registry import Templates
        from retrain.google.vertex import VertexBackend

        return VertexBackend(
            project=settings.project,
            region=settings.region,
            template_uri=settings.template_uri,
            pipeline_root=settings.pipeline_root,
            service_account=settings.service_account,
            api_endpoint=settings.vertex_endpoint,
            templates=Templates(
                settings.project, registry_endpoint=settings.template_registry_endpoint
            ),
        )
    from retrain.backends.local import LocalBackend
    from retrain.google.pubsub import PubSubPublisher

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
        blobs=build_blobs(settings.project),
        history_root=settings.history_uri,
        specs_dir=_in_repository(settings.specs_dir, settings.repo_root or Path(".")),
        base_branch=settings.base_branch,
        notices=notices,
        serving_root=settings.serving_root,
        alerts=build_alerts(settings),
    )


def build_alerts(settings: Settings) -> AlertSink:
    """A run's anomalies as a drift alert on the drift topic, when one is configured."""
    if not settings.drift_topic:
        return NoAlerts()
    from retrain.google.pubsub import PubSubPublisher

    return TopicAlerts(PubSubPublisher(settings.project), settings.drift_topic)


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


def build_inventory(settings: Settings, *, cloud: bool, workdir: Path) -> Sources:
    """The inventory's sources: the cloud project the settings name, or a local work directory
    (the layout `retrain up` leaves, or the demo's: `runs/`, `logs/`, `repo/`)."""
    from retrain.inventory.gather import Sources as InventorySources
    from retrain.inventory.sources import (
        GitSpecHistory,
        LocalPulls,
        LogFileDecisions,
        Unavailable,
        local_workdir,
    )
    from retrain.spec.load import load_specs, spec_paths

    if cloud:
        from retrain.google.cloud_logging import CloudLogging
        from retrain.google.vertex import VertexBackend
        from retrain.inventory.cloud import CloudLoggingDecisions, GitHubPulls
        from retrain.shell import SubprocessRunner

        repo = settings.repo_root or Path(".")
        specs_dir = settings.specs_dir
        runs: RunLister = VertexBackend(
            project=settings.project,
            region=settings.region,
            template_uri="",
            pipeline_root=settings.pipeline_root,
            api_endpoint=settings.vertex_endpoint,
        )
        state: StateReader = build_store(settings)
        pulls: PullReader = Unavailable("no GitHub repository is set (RETRAIN_GITHUB_REPO)")
        if settings.codehost_kind == "github":
            from retrain.codehost.github import build_client

            try:
                github = settings.github()
                pulls = GitHubPulls(build_client(github), github.repo)
            except ConfigError as exc:
                pulls = Unavailable(f"GitHub: {exc}")
        decisions: DecisionReader = CloudLoggingDecisions(
            CloudLogging(SubprocessRunner(timeout=120), settings.project)
        )
        place = f"project {settings.project} ({settings.region})"
        notes: list[str] = []
    else:
        workdir, notes = local_workdir(workdir.resolve())
        demo = (workdir / "runs" / "_jobs").is_dir()
        runs_dir = workdir / "runs" if demo else workdir
        repo = workdir / "repo" if demo else (settings.repo_root or Path("."))
        specs_dir = repo / "specs" if demo else settings.specs_dir
        local = settings.model_copy(update={"workdir": runs_dir, "backend": "local"})
        runs = cast("LocalBackend", build_backend(local))
        state = _local_state(settings, workdir)
        pulls = LocalPulls(runs_dir / "codehost")
        decisions = LogFileDecisions(workdir / "logs")
        place = f"the local stack's work directory {workdir}"
    return InventorySources(
        specs=load_specs(spec_paths([specs_dir])),
        specs_dir_in_repo=_in_repository(specs_dir, repo),
        runs=runs,
        blobs=build_blobs(settings.project),
        pulls=pulls,
        decisions=decisions,
        git=GitSpecHistory(repo),
        state=state,
        history_uri=settings.history_uri if cloud else "",
        place=place,
        notes=notes,
    )


def _local_state(settings: Settings, workdir: Path) -> StateReader:
    """The local stack's counters: in the Firestore emulator the environment names, else in
    the one `retrain up` recorded in the work directory while it runs."""
    from retrain.google.firestore import FirestoreStore
    from retrain.inventory.sources import Unavailable
    from retrain.localstack.discovery import find

    if settings.state == "firestore" and settings.firestore_emulator_host:
        return build_store(settings)
    found = find(workdir)
    host = found.record.env.get("FIRESTORE_EMULATOR_HOST", "") if found.record else ""
    if found.state == "running" and found.record and host:
        return FirestoreStore(found.record.project, settings.state_prefix, emulator=host)
    return Unavailable(
        f"{found.explain()}; the counters live in its Firestore emulator, in memory, and are"
        " read only while it runs"
    )


def production_root(settings: Settings) -> Callable[[str], str]:
    """spec name -> the pipeline root its production runs write under (as the backend puts it)."""
    if settings.backend == "vertex":
        root = settings.pipeline_root.rstrip("/")
        return lambda spec: f"{root}/{spec}"
    from retrain.runs import LocalLayout

    workdir = settings.workdir.resolve()
    return lambda spec: str(LocalLayout(workdir=workdir, spec=spec).pipeline_root)


def production_runs(settings: Settings) -> ProductionRuns:
    """What the backend reports for a run the service submitted: Vertex runs as the configured
    pipelines identity from the deployed templates under the spec's root; local runs have no
    identity and no registry, only their spec's root in the work directory."""
    if settings.backend == "vertex":
        return ProductionRuns(
            settings.service_account, production_root(settings), settings.template_uri
        )
    return ProductionRuns("", production_root(settings))


def build_baselines(settings: Settings) -> ProductionBaselines:
    return ProductionBaselines(production_root(settings), build_blobs(settings.project))


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
        runs_root=settings.pipeline_root or str(settings.workdir.resolve()),
        production=production_runs(settings),
        baselines=build_baselines(settings),
        lease=timedelta(seconds=settings.claim_lease_seconds),
    )


# -- delivery (Cloud Build and the PR workflow) -------------------------------------------------


def build_release_storage(config: DeployConfig) -> GcsStorage:
    """Cloud Storage for templates, release indexes and summaries, in the deploy project."""
    from retrain.google.clients import storage_client
    from retrain.google.storage import GcsStorage

    return GcsStorage(lambda: storage_client(config.project))


def build_model_registry(settings: Settings, config: DeployConfig) -> ModelRegistry:
    from retrain.google.clients import Endpoint
    from retrain.google.model_registry import VertexModelRegistry

    endpoint = Endpoint.regional("aiplatform", config.region, settings.vertex_endpoint)
    return VertexModelRegistry(config.project, config.region, config.serving_image, endpoint)


def build_candidate_backend(settings: Settings, config: DeployConfig) -> RunBackend:
    """Vertex as the candidate identity, from the PR's own templates, under the candidates'
    root: nothing a PR submits runs as production or writes where production reads."""
    from retrain.google.vertex import VertexBackend

    return VertexBackend(
        project=config.project,
        region=config.region,
        template_uri=f"{config.candidates_root}/{{spec}}/{{git_sha}}.json",
        pipeline_root=config.candidate_pipeline_root,
        service_account=config.candidate_pipelines_sa,
        api_endpoint=settings.vertex_endpoint,
    )


def build_candidate_baselines(
    config: DeployConfig, repo: Path, base: str, spec_path: Callable[[Spec], str]
) -> Baselines:
    """Production's model for each PR spec, as the base branch's copy of the spec names it,
    read from production's runs in the deploy project."""
    from retrain.delivery.candidate import on_base_branch
    from retrain.delivery.gitrev import Git

    root = config.pipeline_root
    production = ProductionBaselines(lambda name: f"{root}/{name}", build_blobs(config.project))
    return on_base_branch(Git(repo), base, spec_path, production)


def build_candidate_changes(repo: Path, base: str, spec_path: Callable[[Spec], str]) -> Changes:
    """What a PR changed in each spec against the base branch's copy, for its comment."""
    from retrain.delivery.candidate import changes_on_base_branch
    from retrain.delivery.gitrev import Git

    return changes_on_base_branch(Git(repo), base, spec_path)
