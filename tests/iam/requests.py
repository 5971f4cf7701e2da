"""Recorded Google API requests -> the IAM permissions they need, each rule citing Google's
reference. The build rehearsal (tests/delivery/test_build_rehearsal.py) records every request
its steps make, with the identity making it: Cloud Storage through a recording proxy in front
of the GCS emulator, the gcloud commands through the gcloud stand-in (as the REST method each
command calls). `needs` turns each into (permission, scope), in the scopes of tests/iam/calls.py.

A request no rule here knows is an error, never skipped: a new kind of call must be added
with its source before the IAM check can pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.fakes.recording_proxy import Request


@dataclass(frozen=True)
class Need:
    permission: str
    scope: str


class UnknownRequest(Exception):
    pass


# Cloud Storage JSON API -> permissions: "IAM permissions for JSON methods"
# (https://cloud.google.com/storage/docs/access-control/iam-json). Objects are scoped
# `bucket:<object name>`, so a grant conditioned on a prefix is checked against the name.
_BUCKET = re.compile(r"^/storage/v1/b/([^/]+)$")
_OBJECTS = re.compile(r"^/storage/v1/b/([^/]+)/o$")
_OBJECT = re.compile(r"^/(?:download/)?storage/v1/b/([^/]+)/o/([^/]+)$")
_UPLOAD = re.compile(r"^/upload/storage/v1/b/([^/]+)/o$")
_COPY = re.compile(r"^/storage/v1/b/([^/]+)/o/([^/]+)/(?:copyTo|rewriteTo)/b/([^/]+)/o/([^/]+)$")


def storage_needs(method: str, path: str, query: str) -> list[Need]:
    args = parse_qs(query)
    create_only = args.get("ifGenerationMatch") == ["0"]  # refuses to overwrite
    if _BUCKET.match(path) and method == "GET":
        return [Need("storage.buckets.get", "bucket")]  # buckets.get
    if (found := _OBJECTS.match(path)) and method == "GET":
        prefix = args.get("prefix", [""])[0]
        return [Need("storage.objects.list", f"bucket:{prefix}" if prefix else "bucket")]
    if found := _OBJECT.match(path):
        name = unquote(found.group(2))
        kinds = {"GET": "get", "DELETE": "delete", "PATCH": "update", "PUT": "update"}
        if method in kinds:  # objects.get (metadata or alt=media), delete, patch/update
            return [Need(f"storage.objects.{kinds[method]}", f"bucket:{name}")]
    if (found := _UPLOAD.match(path)) and method == "POST":
        # objects.insert: storage.objects.create, and storage.objects.delete when it may
        # replace an existing object (no ifGenerationMatch=0)
        name = args.get("name", [""])[0]
        create = [Need("storage.objects.create", f"bucket:{name}")]
        return (
            create if create_only else [*create, Need("storage.objects.delete", f"bucket:{name}")]
        )
    if _UPLOAD.match(path) and method == "PUT":
        return []  # the data of a resumable upload the POST started (and was checked for)
    if (found := _COPY.match(path)) and method == "POST":
        # objects.copy / objects.rewrite: get on the source, create (and delete when it may
        # overwrite) on the destination
        source, target = unquote(found.group(2)), unquote(found.group(4))
        needs = [Need("storage.objects.get", f"bucket:{source}"),
                 Need("storage.objects.create", f"bucket:{target}")]  # fmt: skip
        return (
            needs if create_only else [*needs, Need("storage.objects.delete", f"bucket:{target}")]
        )
    raise UnknownRequest(f"Cloud Storage {method} {path}: no rule in tests/iam/requests.py")


# REST methods the gcloud commands call -> the permission each method's reference page names
# ("Authorization requires the following IAM permission"):
# Artifact Registry projects.locations.repositories.dockerImages.get; Cloud Functions v2
# projects.locations.functions.create/patch/get; Eventarc projects.locations.triggers.get;
# Pub/Sub projects.subscriptions.patch; Cloud Scheduler projects.locations.jobs.list/create/
# patch/delete.
REST_PERMISSIONS: dict[str, Need] = {
    "artifactregistry.projects.locations.repositories.dockerImages.get": Need(
        "artifactregistry.dockerimages.get",
        "repository:images",  # by the image: rest_needs
    ),
    "functions.projects.locations.functions.create": Need(
        "cloudfunctions.functions.create", "project"
    ),
    "functions.projects.locations.functions.patch": Need(
        "cloudfunctions.functions.update", "project"
    ),
    "functions.projects.locations.functions.get": Need("cloudfunctions.functions.get", "project"),
    "eventarc.projects.locations.triggers.get": Need("eventarc.triggers.get", "project"),
    "pubsub.projects.subscriptions.patch": Need("pubsub.subscriptions.update", "project"),
    "cloudscheduler.projects.locations.jobs.list": Need("cloudscheduler.jobs.list", "project"),
    "cloudscheduler.projects.locations.jobs.create": Need("cloudscheduler.jobs.create", "project"),
    "cloudscheduler.projects.locations.jobs.patch": Need("cloudscheduler.jobs.update", "project"),
    "cloudscheduler.projects.locations.jobs.delete": Need("cloudscheduler.jobs.delete", "project"),
}


# Vertex AI REST (v1) routes of the Model Registry -> the permission each method's reference page
# names: models.get (aiplatform.models.get), models.listVersions (aiplatform.models.list),
# models.upload (aiplatform.models.upload), models.mergeVersionAliases (aiplatform.models.update).
_MODELS = "/v1/projects/[^/]+/locations/[^/]+/models"
# ... and of PipelineJobs: pipelineJobs.create, get and list name aiplatform.pipelineJobs.*.
_JOBS = "/v1/projects/[^/]+/locations/[^/]+/pipelineJobs"
_VERTEX = [
    (re.compile(rf"^POST {_JOBS}$"), "aiplatform.pipelineJobs.create"),
    (re.compile(rf"^GET {_JOBS}/[^/:]+$"), "aiplatform.pipelineJobs.get"),
    (re.compile(rf"^GET {_JOBS}$"), "aiplatform.pipelineJobs.list"),
    (re.compile(rf"^GET {_MODELS}/[^/:]+$"), "aiplatform.models.get"),
    (re.compile(rf"^GET {_MODELS}/[^/:]+:listVersions$"), "aiplatform.models.list"),
    (re.compile(rf"^POST {_MODELS}:upload$"), "aiplatform.models.upload"),
    (re.compile(rf"^POST {_MODELS}/[^/:]+:mergeVersionAliases$"), "aiplatform.models.update"),
]


def vertex_needs(method: str, path: str) -> list[Need]:
    request = f"{method} {unquote(path)}"
    for pattern, permission in _VERTEX:
        if pattern.match(request):
            return [Need(permission, "project")]
    raise UnknownRequest(f"Vertex AI {request}: no rule in tests/iam/requests.py")


# Artifact Registry repositories (repository_id in infra/main.tf, infra/candidates.tf) -> the
# scope iam.json grants on them.
REPOSITORIES = {"retrain": "repository:images", "retrain-candidates": "repository:candidates"}


def rest_needs(method: str, argv: list[str]) -> list[Need]:
    if method not in REST_PERMISSIONS:
        raise UnknownRequest(f"{method}: no rule in tests/iam/requests.py")
    need = REST_PERMISSIONS[method]
    if method.startswith("artifactregistry."):  # the image's repository: HOST/PROJECT/REPO/...
        repository = argv[4].split("/")[2]
        if repository not in REPOSITORIES:
            raise UnknownRequest(f"{argv[4]}: not in a repository infra/ creates")
        need = Need(need.permission, REPOSITORIES[repository])
    return [need]


def grant_covers(granted: str, needed: str) -> bool:
    """A project-level grant holds on every resource of the project; a bucket-wide one on
    every object; `bucket:PREFIX` (an IAM condition on the name) on the objects under PREFIX."""
    if granted in ("project", needed):
        return True
    if granted == "bucket":
        return needed.startswith("bucket:")
    if granted.startswith("bucket:") and needed.startswith("bucket:"):
        return needed.removeprefix("bucket:").startswith(granted.removeprefix("bucket:"))
    return False


def recorded_needs(
    storage: list[Request],
    commands: list[dict[str, Any]],
    vertex: list[tuple[str, str, str]],
    bucket: str,
) -> list[tuple[str, str, Need]]:
    """(identity, request sent, need) of every recorded request: Cloud Storage through the
    recording proxy (all in the artefact `bucket`), gcloud commands as their REST methods,
    Vertex AI requests as (identity, HTTP method, path)."""
    needs: list[tuple[str, str, Need]] = []
    for request in storage:
        named = request.path.split("/b/", 1)[1].split("/", 1)[0]
        assert named == bucket, f"{request.method} {request.path}: not the artefact bucket"
        for need in storage_needs(request.method, request.path, request.query):
            needs.append((request.account, f"{request.method} {request.path}", need))
    for command in commands:
        for need in rest_needs(command["method"], command["argv"]):
            needs.append((command["account"], " ".join(command["argv"][:4]), need))
    for account, method, path in vertex:
        for need in vertex_needs(method, path):
            needs.append((account, f"{method} {path}", need))
    return needs


def check_granted_and_documented(needs: list[tuple[str, str, Need]]) -> None:
    """Each (identity, request sent, need) is granted to that identity (infra/iam.json through
    the role map) and listed for it in tests/iam/calls.py."""
    from tests.iam.calls import CALLS
    from tests.iam.grants import GRANTS, ROLES

    assert needs, "no Google API request was recorded"
    documented = {(c.account, c.permission) for c in CALLS}
    for account, sent, need in needs:
        grants = [
            g for g in GRANTS
            if g["account"] == account and need.permission in ROLES[g["role"]]
            and grant_covers(g["scope"], need.scope)
        ]  # fmt: skip
        assert grants, (
            f"{account} sent {sent}, which needs {need.permission} on {need.scope}: "
            "no grant in infra/iam.json gives it"
        )
        assert (account, need.permission) in documented, (
            f"{account} sent {sent} ({need.permission}): tests/iam/calls.py does not list it"
        )
