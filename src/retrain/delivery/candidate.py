"""A pull request's candidate runs: its compiled templates under `candidates/<spec>/<sha>.json`
(never where the deployed functions look), then one PipelineJob per changed spec, with a job id
derived from (spec, version, PR, commit): pushing the same commit twice starts nothing new.
A PR's code is not production's: its images come from the candidate repository, and its runs
write under the candidate root as the candidate pipeline account."""

from __future__ import annotations

from pathlib import Path

from retrain.delivery.config import DeployConfig
from retrain.delivery.images import refuse_unpinned
from retrain.delivery.plan import Plan, Submit, Upload
from retrain.delivery.templates import foreign_images, image_checks, write_ir
from retrain.errors import BackendError
from retrain.routing.jobid import derive_job_id
from retrain.runs import RunRequest
from retrain.spec.model import Spec


def candidate_request(spec: Spec, git_sha: str, pr: int) -> RunRequest:
    """The run a PR's commit gets for one spec (CI on Vertex, `retrain demo` locally)."""
    return RunRequest(
        job_id=derive_job_id(spec.name, spec.fingerprint(), "pull_request", f"pr{pr}:{git_sha}"),
        spec=spec.name,
        spec_version=spec.fingerprint(),
        trigger="pull_request",
        git_sha=git_sha,
        pr_number=pr,
    )


def candidate_requests(specs: list[Spec], config: DeployConfig, pr: int) -> list[RunRequest]:
    sha = config.require_sha()
    return [candidate_request(s, sha, pr) for s in specs]


def candidate_plan(specs: list[Spec], compiled: Path, config: DeployConfig, pr: int) -> Plan:
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
        for request, upload in zip(candidate_requests(specs, config, pr), uploads, strict=True)
    ]
    checks = image_checks(images, "no candidate run started")
    return Plan((*checks, *uploads, *submits))
