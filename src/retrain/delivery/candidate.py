"""A pull request's candidate runs: its compiled templates under `candidates/<spec>/<sha>.json`
(never where the deployed functions look), then one PipelineJob per changed spec, with a job id
derived from (spec, version, PR, commit): pushing the same commit twice starts nothing new.
A PR's code is not production's: its images come from the candidate repository, and its runs
write under the candidate root as the candidate pipeline account. Each run is judged against
production: the model the spec's `promotion.version` names on the base branch, never what the
PR's own copy of the spec claims."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from retrain.delivery.config import DeployConfig
from retrain.delivery.gitrev import GitReader
from retrain.delivery.images import refuse_unpinned
from retrain.delivery.plan import DeliveryPlan, Submit, Upload
from retrain.delivery.templates import foreign_images, image_checks, write_ir
from retrain.errors import BackendError, ConfigError, SpecError
from retrain.report.changes import spec_changes
from retrain.routing.jobid import derive_job_id
from retrain.runs import Baseline, RunRequest
from retrain.spec.load import parse_spec
from retrain.spec.model import Spec
from retrain.summary import SpecChange

Baselines = Callable[[Spec], Baseline]
MAX_CHANGES = 50  # a run value stays small; the comment names six


BaseSpecs = Callable[[Spec], Spec | str]
Changes = Callable[[Spec], Sequence[SpecChange]]


def base_specs(git: GitReader, base: str, spec_path: Callable[[Spec], str]) -> BaseSpecs:
    """The base branch's copy of a PR's spec, or why there is none."""

    def read(spec: Spec) -> Spec | str:
        path = spec_path(spec)
        try:
            text = git.show(base, path)
        except ConfigError as exc:
            return f"cannot read {path} on {base}: {exc}"
        if text is None:
            return f"{path} does not exist on {base}: a new spec"
        try:
            on_base = parse_spec(text, f"{base}:{path}")
        except SpecError as exc:
            return f"{path} on {base} is not a valid spec: {exc}"
        if on_base.name != spec.name:
            return f"{path} on {base} is spec {on_base.name!r}"
        return on_base

    return read


def on_base_branch(
    git: GitReader, base: str, spec_path: Callable[[Spec], str], production: Baselines
) -> Baselines:
    """Production for a PR's spec, as the base branch's copy of that spec names it (a PR could
    set its own `promotion.version`); a spec new in the PR has no baseline."""
    read = base_specs(git, base, spec_path)

    def resolve(spec: Spec) -> Baseline:
        on_base = read(spec)
        return Baseline.missing(on_base) if isinstance(on_base, str) else production(on_base)

    return resolve


def changes_on_base_branch(git: GitReader, base: str, spec_path: Callable[[Spec], str]) -> Changes:
    """What a PR changed in each spec against the base branch's copy; nothing for a new spec
    (the comment's baseline line says it is new)."""
    read = base_specs(git, base, spec_path)

    def changes(spec: Spec) -> Sequence[SpecChange]:
        on_base = read(spec)
        return [] if isinstance(on_base, str) else spec_changes(on_base, spec)

    return changes


def changes_parameter(changes: Sequence[SpecChange]) -> str:
    """The `spec_changes` run value: JSON, at most MAX_CHANGES of them."""
    kept = [c.model_dump() for c in changes[:MAX_CHANGES]]
    return json.dumps(kept, separators=(",", ":")) if kept else ""


def candidate_request(
    spec: Spec,
    git_sha: str,
    pr: int,
    baseline: Baseline,
    snapshot: str = "",
    changes: Sequence[SpecChange] = (),
) -> RunRequest:
    """The run a PR's commit gets for one spec (CI on Vertex, `retrain demo` locally), reading
    the data as of `snapshot` (RFC 3339; empty: as of when the run starts)."""
    return RunRequest.for_spec(
        spec,
        job_id=derive_job_id(spec.name, spec.fingerprint(), "pull_request", f"pr{pr}:{git_sha}"),
        version=spec.fingerprint(),
        trigger="pull_request",
        git_sha=git_sha,
        pr_number=pr,
        baseline=baseline,
        snapshot=snapshot,
        spec_changes=changes_parameter(changes),
    )


def _no_changes(spec: Spec) -> Sequence[SpecChange]:
    return ()


def candidate_requests(
    specs: list[Spec],
    config: DeployConfig,
    pr: int,
    baselines: Baselines,
    snapshot: str,
    changes: Changes = _no_changes,
) -> list[RunRequest]:
    sha = config.require_sha()
    return [candidate_request(s, sha, pr, baselines(s), snapshot, changes(s)) for s in specs]


def candidate_plan(
    specs: list[Spec],
    compiled: Path,
    config: DeployConfig,
    pr: int,
    baselines: Baselines,
    snapshot: str,
    changes: Changes = _no_changes,
) -> DeliveryPlan:
    """Check the images, upload each spec's IR (a new push of the PR replaces it), then submit
    one run per spec."""
    sha = config.require_sha()
    out_dir = compiled / "ir"
    out_dir.mkdir(parents=True, exist_ok=True)
    images: list[str] = []
    uploads: list[Upload] = []
    for spec in specs:
        ir, named = write_ir(compiled / f"{spec.name}.json", out_dir)
        foreign = foreign_images(named, config, config.candidate_docker_repo)
        if foreign:
            raise BackendError(
                f"{spec.name}: template names {', '.join(foreign)}, "
                f"not an image of {config.candidate_docker_repo}"
            )
        refuse_unpinned(spec.name, named, "compile with --image REPOSITORY@sha256:DIGEST")
        images += named
        uri = f"{config.candidates_root}/{spec.name}/{sha}.json"
        uploads.append(Upload(ir, uri, overwrite=True))
    submits = [
        Submit(request, upload.uri)
        for request, upload in zip(
            candidate_requests(specs, config, pr, baselines, snapshot, changes),
            uploads,
            strict=True,
        )
    ]
    checks = image_checks(images, "no candidate run started")
    return DeliveryPlan((*checks, *uploads, *submits))
