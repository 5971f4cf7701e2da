"""Publishing compiled templates: checks first, then uploads, the release index last.

Rules: a template is published only when every image it names is (a) in the configured
repository and (b) already pushed; a published key is never overwritten (`--no-clobber`); the
release index, which makes a release visible, is written after all its templates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from retrain.delivery.config import DeployConfig
from retrain.delivery.release import ReleaseIndex, ReleasePlan, index_of
from retrain.delivery.runner import Runner
from retrain.errors import BackendError, PipelineError


def pipeline_spec(template: dict[str, Any]) -> dict[str, Any]:
    """The pipeline IR: KubeflowV2DagRunner writes a job JSON that wraps it in `pipelineSpec`."""
    spec = template.get("pipelineSpec", template)
    if not isinstance(spec, dict) or "deploymentSpec" not in spec:
        raise PipelineError("not a compiled pipeline: no deploymentSpec")
    return spec


def images_in(template: dict[str, Any]) -> list[str]:
    """Every container image the template's executors run."""
    executors = pipeline_spec(template)["deploymentSpec"].get("executors", {})
    images = {
        str(e["container"]["image"])
        for e in executors.values()
        if isinstance(e, dict) and isinstance(e.get("container"), dict)
    }
    return sorted(images)


def foreign_images(images: Iterable[str], config: DeployConfig) -> list[str]:
    """Images outside the configured repository (e.g. the `retrain-pipelines:local` default)."""
    return [i for i in images if not i.startswith(config.docker_repo + "/")]


def image_pushed(runner: Runner, image: str) -> bool:
    """True when the registry knows the image (dry runs cannot tell and say True)."""
    try:
        out = runner.run(
            ["gcloud", "artifacts", "docker", "images", "describe", image,
             "--format=value(image_summary.digest)"],
            reads=True,
        )  # fmt: skip
    except BackendError:
        return False
    return runner.dry_run or bool(out.strip())


def write_ir(template_path: Path, out_dir: Path) -> tuple[Path, list[str]]:
    """Extract the pipeline IR (what Vertex and the template registry take) next to the job."""
    try:
        template = json.loads(template_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PipelineError(f"cannot read compiled template {template_path}: {exc}") from exc
    spec = pipeline_spec(template)
    out = out_dir / f"{template_path.stem}.pipeline.json"
    out.write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    return out, images_in(template)


def publish(
    plan: ReleasePlan, compiled_dir: Path, config: DeployConfig, runner: Runner
) -> ReleaseIndex:
    """Check, upload the compiled templates, copy the carried ones, then write the index."""
    out_dir = compiled_dir / "ir"
    out_dir.mkdir(parents=True, exist_ok=True)
    uploads: list[tuple[Path, str]] = []
    images: dict[str, list[str]] = {}
    for spec in plan.to_compile:
        template = compiled_dir / f"{spec.name}.json"
        if runner.dry_run and not template.exists():
            print(f"(dry run: {template} not compiled; would upload it to {spec.template_uri})")
            continue
        ir, named = write_ir(template, out_dir)
        foreign = foreign_images(named, config)
        if foreign:
            raise BackendError(
                f"{spec.name}: the template names {', '.join(foreign)}, not an image of "
                f"{config.docker_repo}; compile with --image {plan.image}"
            )
        images[spec.name] = named
        uploads.append((ir, spec.template_uri))
    for image in sorted({i for named in images.values() for i in named}):
        if not image_pushed(runner, image):
            raise BackendError(f"image {image} is not pushed yet: nothing was published")
    for ir, uri in uploads:
        runner.run(["gcloud", "storage", "cp", "--no-clobber", str(ir), uri])
    for spec in plan.specs:
        if spec.action == "carry":
            runner.run(
                ["gcloud", "storage", "cp", "--no-clobber", spec.carry_from, spec.template_uri]
            )
    index = index_of(plan, images)
    index_file = compiled_dir / f"release-{plan.git_sha}.json"
    index_file.write_text(index.model_dump_json(indent=2) + "\n")
    runner.run(["gcloud", "storage", "cp", "--no-clobber", str(index_file),
                f"{config.releases_root}/{plan.git_sha}.json"])  # fmt: skip
    runner.run(["gcloud", "storage", "cp", str(index_file), f"{config.releases_root}/latest.json"])
    return index


def read_previous(config: DeployConfig, runner: Runner) -> ReleaseIndex | None:
    """The last published release, or None for the first one (or in a dry run)."""
    latest = f"{config.releases_root}/latest.json"
    try:
        listing = runner.run(["gcloud", "storage", "ls", f"{config.releases_root}/"], reads=True)
    except BackendError as exc:
        if "matched no objects" in str(exc):  # an empty prefix: no release yet
            return None
        raise
    if latest not in listing.split():
        return None
    text = runner.run(["gcloud", "storage", "cat", latest], reads=True)
    try:
        return ReleaseIndex.model_validate_json(text)
    except ValueError as exc:
        raise BackendError(f"{latest} is not a release index: {exc}") from exc
