"""Publishing compiled templates: checks first, then uploads, the release index last.

Rules: a template is published only when every image it names is (a) in the configured
repository, (b) named by digest (`retrain.delivery.images`) and (c) already pushed; a published
key is never overwritten; the release index, which makes a release visible, is written after
all its templates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from retrain.blobs import ObjectStore
from retrain.delivery.config import DeployConfig
from retrain.delivery.images import refuse_unpinned
from retrain.delivery.plan import Action, CheckImage, Copy, DeliveryPlan, Run, Upload
from retrain.delivery.release import ReleaseIndex, ReleasePlan, index_of
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


def foreign_images(images: Iterable[str], config: DeployConfig, repo: str = "") -> list[str]:
    """Images outside the configured repository (e.g. the `retrain-pipelines:local` default)."""
    return [i for i in images if not i.startswith((repo or config.docker_repo) + "/")]


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


def image_checks(images: Iterable[str], otherwise: str) -> tuple[CheckImage, ...]:
    return tuple(CheckImage(image, otherwise) for image in sorted(set(images)))


def publish_plan(
    plan: ReleasePlan, compiled_dir: Path, config: DeployConfig, python: str = ""
) -> tuple[DeliveryPlan, ReleaseIndex]:
    """Check the images, upload the compiled templates, copy the carried ones, then write the
    index (`releases/<sha>.json`, then `releases/latest.json`). With a template registry
    configured, the new templates go there too, through kfp in the pipeline environment
    (`python`). Writes the IR files and the index under `compiled_dir`, nothing remote."""
    out_dir = compiled_dir / "ir"
    out_dir.mkdir(parents=True, exist_ok=True)
    uploads: list[Upload] = []
    images: dict[str, list[str]] = {}
    missing: list[str] = []
    for spec in plan.to_compile:
        template = compiled_dir / f"{spec.name}.json"
        if not template.exists():
            missing.append(f"{template} is not compiled (it goes to {spec.template_uri})")
            continue
        ir, named = write_ir(template, out_dir)
        foreign = foreign_images(named, config)
        if foreign:
            raise BackendError(
                f"{spec.name}: the template names {', '.join(foreign)}, not an image of "
                f"{config.docker_repo}; compile with --image {plan.image}"
            )
        refuse_unpinned(
            spec.name, named, "`retrain deploy plan` pins the pushed image; compile with its plan"
        )
        images[spec.name] = named
        uploads.append(Upload(ir, spec.template_uri))
    copies = [Copy(s.carry_from, s.template_uri) for s in plan.specs if s.action == "carry"]
    index = index_of(plan, images)
    index_file = compiled_dir / f"release-{plan.git_sha}.json"
    index_file.write_text(index.model_dump_json(indent=2) + "\n")
    actions: list[Action] = [
        *image_checks((i for named in images.values() for i in named), "nothing was published"),
        *uploads,
        *copies,
        Upload(index_file, f"{config.releases_root}/{plan.git_sha}.json"),
        Upload(index_file, f"{config.releases_root}/latest.json", overwrite=True),
    ]
    if config.template_registry and uploads:
        actions.append(
            Run((python or "python", "-m", "retrain.google.kfp_registry",
                 f"--host={config.template_registry}", f"--tag={plan.git_sha}", "--tag=latest",
                 *(str(u.path) for u in uploads)))
        )  # fmt: skip
    return DeliveryPlan(tuple(actions), tuple(missing)), index


def read_previous(config: DeployConfig, storage: ObjectStore) -> ReleaseIndex | None:
    """The last published release, or None for the first one."""
    latest = f"{config.releases_root}/latest.json"
    text = storage.read_text(latest)
    if text is None:
        return None
    try:
        return ReleaseIndex.model_validate_json(text)
    except ValueError as exc:
        raise BackendError(f"{latest} is not a release index: {exc}") from exc
