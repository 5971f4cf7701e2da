"""Releases: which specs changed since the last deployed release, and the index a release leaves.

A template is published per spec and commit: `templates/<spec>/<sha>.json`. A spec whose content
hash (spec + pipeline code + roots, not the image tag) matches the previous release is not
recompiled: its previous template (which names the previous, already pushed image by digest) is
copied to the new commit's key; one that named its image by tag is compiled again. So every
release has a complete, immutable set of templates, and the functions find
`templates/{spec}/{git_sha}.json` for every spec of the commit they run.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from retrain.delivery.config import DeployConfig
from retrain.delivery.images import unpinned
from retrain.pipeline_env.compile import CompileOptions, input_hash, schema_digest
from retrain.spec.model import Spec

RELEASE_PLAN = "release-plan.json"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReleasedSpec(_Model):
    content_hash: str
    spec_version: str
    template_uri: str
    images: list[str]
    promotion: dict[str, str | None]


class ReleaseIndex(_Model):
    """What a release published: releases/<sha>.json, and releases/latest.json."""

    git_sha: str
    specs: dict[str, ReleasedSpec]


class PlannedSpec(_Model):
    name: str
    path: str
    content_hash: str
    spec_version: str
    action: str  # compile | carry
    carry_from: str = ""  # template uri of the previous release (carry)
    carry_images: list[str] = []
    template_uri: str  # where this release publishes it
    promotion: dict[str, str | None]


class ReleasePlan(_Model):
    git_sha: str
    previous_sha: str
    image: str
    pipeline_root: str
    serving_root: str
    project: str
    region: str
    service_account: str
    specs: list[PlannedSpec]

    def compile_options(self) -> CompileOptions:
        return CompileOptions(
            pipeline_root=self.pipeline_root,
            serving_root=self.serving_root,
            image=self.image,
            project=self.project,
            region=self.region,
            service_account=self.service_account,
        )

    @property
    def to_compile(self) -> list[PlannedSpec]:
        return [s for s in self.specs if s.action == "compile"]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.model_dump(mode="json"), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> ReleasePlan:
        return cls.model_validate_json(path.read_text())


def content_hash(spec: Spec, config: DeployConfig, code: str, schema: str = "") -> str:
    """The compile input hash without the image: what decides whether a template changes
    (`schema`: the digest of the spec's checked-in schema, which the template's image holds)."""
    options = CompileOptions(
        pipeline_root=config.pipeline_root,
        serving_root=config.serving_root,
        image="",
        project=config.project,
        region=config.region,
        service_account=config.pipelines_sa,
    )
    return input_hash(spec, options, code, schema)


def plan_release(
    specs: list[tuple[Spec, Path]],
    code: str,
    config: DeployConfig,
    previous: ReleaseIndex | None,
    force: bool = False,
) -> ReleasePlan:
    sha = config.require_sha()
    planned: list[PlannedSpec] = []
    for spec, path in sorted(specs, key=lambda item: item[0].name):
        digest = content_hash(spec, config, code, schema_digest(path))
        before = previous.specs.get(spec.name) if previous else None
        carry = (
            before is not None
            and before.content_hash == digest
            and not unpinned(before.images)
            and not force
        )
        planned.append(
            PlannedSpec(
                name=spec.name,
                path=str(path),
                content_hash=digest,
                spec_version=spec.fingerprint(),
                action="carry" if carry else "compile",
                carry_from=before.template_uri if carry and before else "",
                carry_images=before.images if carry and before else [],
                template_uri=config.template_uri(spec.name, sha),
                promotion=spec.promotion.model_dump(mode="json"),
            )
        )
    return ReleasePlan(
        git_sha=sha,
        previous_sha=previous.git_sha if previous else "",
        image=config.pipeline_image(sha),
        pipeline_root=config.pipeline_root,
        serving_root=config.serving_root,
        project=config.project,
        region=config.region,
        service_account=config.pipelines_sa,
        specs=planned,
    )


def index_of(plan: ReleasePlan, images: dict[str, list[str]]) -> ReleaseIndex:
    """The index to publish once every template of the plan is in place."""
    return ReleaseIndex(
        git_sha=plan.git_sha,
        specs={
            s.name: ReleasedSpec(
                content_hash=s.content_hash,
                spec_version=s.spec_version,
                template_uri=s.template_uri,
                images=images.get(s.name, s.carry_images),
                promotion=s.promotion,
            )
            for s in plan.specs
        },
    )
