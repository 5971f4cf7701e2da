"""Promotion: a spec's `promotion` section changed between two revisions -> Model Registry.

A promotion PR (opened by the completion handler) sets `promotion.version` to the pipeline job
id of a blessed run. Merging it makes that run's pushed model the `alias` version of
`registry_model`: uploaded as a new version labelled `retrain-job=<job id>` if the registry
does not have it yet (the artefact is the `pushed_uri` of the run's evaluation summary), else
the alias is moved onto the existing version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from retrain.delivery.config import DeployConfig
from retrain.delivery.gitrev import GitReader
from retrain.delivery.runner import Runner
from retrain.errors import BackendError, SpecError
from retrain.runs import label_value
from retrain.spec.load import parse_spec
from retrain.spec.model import Promotion
from retrain.summary import parse_summary, summary_path


@dataclass(frozen=True)
class PromotionChange:
    spec: str
    before: Promotion | None
    after: Promotion


def promotion_changes(
    git: GitReader, base: str | None, head: str, spec_files: list[str]
) -> list[PromotionChange]:
    """Specs at `head` whose promotion section differs from `base` and names a version.
    Without a base (the first release) every promotion naming a version counts."""
    changes = []
    for path in sorted(spec_files):
        new_text = git.show(head, path)
        if new_text is None:
            continue
        after = parse_spec(new_text, path)
        old_text = git.show(base, path) if base else None
        before = None
        if old_text is not None:
            try:
                before = parse_spec(old_text, path).promotion
            except SpecError:
                before = None  # an invalid old spec promoted nothing
        if after.promotion.version and after.promotion != before:
            changes.append(PromotionChange(after.name, before, after.promotion))
    return changes


class ModelRegistry(Protocol):
    def find_version(self, model: str, job_id: str) -> str | None:
        """The version id of `model` labelled with this job, if uploaded before."""
        ...

    def upload(self, model: str, job_id: str, spec: str, artifact_uri: str, alias: str) -> None: ...

    def set_alias(self, model: str, version: str, alias: str) -> None: ...


class BlobReader(Protocol):
    def read_bytes(self, uri: str) -> bytes: ...


def promote(
    change: PromotionChange,
    config: DeployConfig,
    registry: ModelRegistry,
    blobs: BlobReader,
) -> str:
    """Carry out one promotion; return what was done, as one line."""
    target = change.after
    job_id = target.version or ""
    existing = registry.find_version(target.registry_model, job_id)
    if existing:
        registry.set_alias(target.registry_model, existing, target.alias)
        return (
            f"{change.spec}: alias {target.alias} -> {target.registry_model}@{existing} ({job_id})"
        )
    root = f"{config.pipeline_root}/{change.spec}"
    location = summary_path(root, job_id)
    summary = parse_summary(blobs.read_bytes(location), location)
    if not summary.blessed:
        raise BackendError(f"{change.spec}: run {job_id} was not blessed; refusing to promote it")
    artifact = summary.candidate.pushed_uri
    if not artifact:
        raise BackendError(f"{change.spec}: run {job_id} pushed no model ({location})")
    registry.upload(target.registry_model, job_id, change.spec, artifact, target.alias)
    return (
        f"{change.spec}: uploaded {artifact} as {target.registry_model} with alias {target.alias}"
    )


class GcloudModelRegistry:
    """The Model Registry through gcloud; aliases of existing versions through the v1 API
    (gcloud has no command for them)."""

    def __init__(self, config: DeployConfig, runner: Runner, endpoint: str = "") -> None:
        self._config = config
        self._runner = runner
        self._endpoint = endpoint

    def _where(self) -> list[str]:
        return [f"--project={self._config.project}", f"--region={self._config.region}"]

    def _model_name(self, model: str) -> str:
        return f"projects/{self._config.project}/locations/{self._config.region}/models/{model}"

    def _exists(self, model: str) -> bool:
        try:
            self._runner.run(
                ["gcloud", "ai", "models", "describe", model, *self._where(),
                 "--format=value(name)"],
                reads=True,
            )  # fmt: skip
        except BackendError:
            return False
        return not self._runner.dry_run

    def find_version(self, model: str, job_id: str) -> str | None:
        if not self._exists(model):
            return None
        out = self._runner.run(
            ["gcloud", "ai", "models", "list-version", model, *self._where(),
             f"--filter=labels.retrain-job={label_value(job_id)}", "--format=value(versionId)"],
            reads=True,
        )  # fmt: skip
        versions = out.split()
        return versions[0] if versions else None

    def upload(self, model: str, job_id: str, spec: str, artifact_uri: str, alias: str) -> None:
        parent = (
            [f"--parent-model={self._model_name(model)}"]
            if self._exists(model)
            else [f"--model-id={model}"]
        )
        self._runner.run([
            "gcloud", "ai", "models", "upload", *self._where(),
            f"--display-name={model}", *parent,
            f"--artifact-uri={artifact_uri}",
            f"--container-image-uri={self._config.serving_image}",
            f"--version-aliases={alias}",
            f"--labels=retrain-spec={label_value(spec)},retrain-job={label_value(job_id)}",
        ])  # fmt: skip

    def set_alias(self, model: str, version: str, alias: str) -> None:
        name = f"{self._model_name(model)}@{version}"
        if self._runner.dry_run:
            print(f"would call: ModelService.MergeVersionAliases {name} +{alias}")
            return
        from google.api_core import exceptions as api
        from google.api_core.client_options import ClientOptions
        from google.cloud import aiplatform_v1

        endpoint = self._endpoint or f"{self._config.region}-aiplatform.googleapis.com"
        kwargs: dict[str, Any] = {"client_options": ClientOptions(api_endpoint=endpoint)}
        if endpoint.startswith("http://"):  # a local fake (tests)
            from google.auth.credentials import AnonymousCredentials

            kwargs.update(transport="rest", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
        client = aiplatform_v1.ModelServiceClient(**kwargs)
        try:
            client.merge_version_aliases(name=name, version_aliases=[alias])
        except api.GoogleAPICallError as exc:
            raise BackendError(f"alias {alias} on {name}: {exc}") from exc
