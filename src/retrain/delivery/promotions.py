"""Promotion: a spec's `promotion` section changed between two revisions -> Model Registry.

A promotion PR (opened by the completion handler) sets `promotion.version` to the pipeline job
id of a blessed run. Merging it makes that run's pushed model the `alias` version of
`registry_model`: uploaded as a new version labelled `retrain-job=<job id>` if the registry
does not have it yet (the artefact is the `pushed_uri` of the run's evaluation summary), else
the alias is moved onto the existing version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from retrain.blobs import BlobReader
from retrain.delivery.config import DeployConfig
from retrain.delivery.gitrev import GitReader
from retrain.delivery.plan import DeliveryPlan, Promote
from retrain.delivery.release import ReleasePlan
from retrain.errors import BackendError, ConfigError, SpecError
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


def promotion_base(base: str, plan_file: Path) -> str | None:
    """The revision to compare with: `base` when given, else the previous release of the plan
    (None: this is the first release)."""
    if base:
        return base
    if not plan_file.exists():
        raise ConfigError(f"pass --base REV, or --plan FILE (no {plan_file})")
    return ReleasePlan.load(plan_file).previous_sha or None


def promotion_plan(changes: list[PromotionChange], config: DeployConfig) -> DeliveryPlan:
    """One `Promote` a change. Whether it uploads or moves an alias is known only from the
    registry, which a dry run does not read: `promote` decides when it is carried out."""
    return DeliveryPlan(tuple(Promote(c.spec, c.after, config) for c in changes))


class ModelRegistry(Protocol):
    def find_version(self, model: str, job_id: str) -> str | None:
        """The version id of `model` labelled with this job, if uploaded before."""
        ...

    def upload(self, model: str, job_id: str, spec: str, artifact_uri: str, alias: str) -> None: ...

    def set_alias(self, model: str, version: str, alias: str) -> None: ...


def promote(change: Promote, registry: ModelRegistry, blobs: BlobReader) -> str:
    """Carry out one promotion; return what was done, as one line."""
    target = change.promotion
    job_id = target.version or ""
    existing = registry.find_version(target.registry_model, job_id)
    if existing:
        registry.set_alias(target.registry_model, existing, target.alias)
        return (
            f"{change.spec}: alias {target.alias} -> {target.registry_model}@{existing} ({job_id})"
        )
    root = f"{change.config.pipeline_root}/{change.spec}"
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
