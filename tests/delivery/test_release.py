"""Release plans (what compiles, what carries over) and publishing (checks before uploads)."""

from __future__ import annotations

import io
import json
import re
import shlex
import urllib.parse
from pathlib import Path
from traceback import extract_stack
from typing import Any

import pytest
import requests

from retrain.blobs import ObjectStore
from retrain.data.samples import example_spec_files
from retrain.delivery.apply import Ports, apply
from retrain.delivery.images import pin, repository_of
from retrain.delivery.plan import Copy, DeliveryPlan, Upload, describe
from retrain.delivery.release import ReleaseIndex, ReleasePlan, plan_release
from retrain.delivery.templates import images_in, publish_plan, read_previous
from retrain.errors import BackendError, TransientError
from retrain.google.clients import storage_client
from retrain.google.storage import GcsStorage
from retrain.processes.procs import free_port
from retrain.spec import load_spec
from tests.fakes.runner import RecordingRunner, refuse

from .conftest import BUCKET
from .helpers import REPO, SHA, config

SPECS = [(load_spec(p), p) for p in example_spec_files(REPO / "specs")]  # not a user's own
COMPILED = REPO / "tests" / "delivery" / "fixtures"
DIGEST = "sha256:" + "0123456789abcdef" * 4
PINNED = f"us-central1-docker.pkg.dev/acme-prod/retrain/pipelines@{DIGEST}"


def pinned_release(code: str, **changes: str) -> ReleasePlan:
    """A release plan whose image is pinned, as `retrain deploy plan` leaves it."""
    plan = plan_release(SPECS, code, config(**changes), None)
    return plan.model_copy(update={"image": PINNED})


def test_first_release_compiles_everything() -> None:
    plan = plan_release(SPECS, "code-1", config(), None)
    assert [s.action for s in plan.specs] == ["compile", "compile"]
    assert plan.image == f"us-central1-docker.pkg.dev/acme-prod/retrain/pipelines:{SHA}"
    assert plan.specs[0].template_uri == f"gs://acme-prod-retrain/templates/churn/{SHA}.json"


def _released(code: str) -> ReleaseIndex:
    first = plan_release(SPECS, code, config(git_sha="a" * 40), None)
    return ReleaseIndex.model_validate(
        {
            "git_sha": "a" * 40,
            "specs": {
                s.name: {
                    "content_hash": s.content_hash,
                    "spec_version": s.spec_version,
                    "template_uri": s.template_uri,
                    "images": [PINNED],
                    "promotion": s.promotion,
                }
                for s in first.specs
            },
        }
    )


def test_unchanged_specs_carry_their_previous_template_to_the_new_commit() -> None:
    previous = _released("code-1")
    plan = plan_release(SPECS, "code-1", config(), previous)
    assert [s.action for s in plan.specs] == ["carry", "carry"]
    churn = plan.specs[0]
    assert churn.carry_from == f"gs://acme-prod-retrain/templates/churn/{'a' * 40}.json"
    assert churn.template_uri.endswith(f"/churn/{SHA}.json")
    assert plan.previous_sha == "a" * 40
    assert [s.action for s in plan_release(SPECS, "code-1", config(), previous, True).specs] == [
        "compile",
        "compile",
    ]


def test_a_changed_spec_or_changed_pipeline_code_recompiles() -> None:
    previous = _released("code-1")
    edited = previous.specs["churn"].model_copy(update={"content_hash": "different"})
    one = previous.model_copy(update={"specs": {**previous.specs, "churn": edited}})
    assert [s.action for s in plan_release(SPECS, "code-1", config(), one).specs] == [
        "compile",
        "carry",
    ]
    assert [s.action for s in plan_release(SPECS, "code-2", config(), previous).specs] == [
        "compile",
        "compile",
    ]


def _compiled(tmp_path: Path, image: str) -> Path:
    out = tmp_path / "pipelines"
    out.mkdir()
    for name in ("churn", "house-prices"):
        template = json.loads((COMPILED / "template.json").read_text())
        for executor in template["pipelineSpec"]["deploymentSpec"]["executors"].values():
            if "container" in executor:
                executor["container"]["image"] = image
        (out / f"{name}.json").write_text(json.dumps(template))
    return out


def _apply(plan: DeliveryPlan, runner: RecordingRunner, storage: ObjectStore | None = None) -> None:
    apply(plan, Ports(runner, storage), echo=io.StringIO())


def _pushed(argv: list[str]) -> str:
    return "sha256:abc" if "describe" in argv else ""


def _objects(gcs: Any) -> dict[str, bytes]:
    return {b.name: b.download_as_bytes() for b in gcs.list_blobs(BUCKET)}


def test_publish_checks_images_then_uploads_then_writes_the_index(
    tmp_path: Path, gcs: Any, storage: ObjectStore
) -> None:
    plan = pinned_release("code")
    compiled = _compiled(tmp_path, plan.image)
    actions, index = publish_plan(plan, compiled, config())
    runner = RecordingRunner(answer=_pushed)
    _apply(actions, runner, storage)
    lines = [describe(a) for a in actions.actions]
    assert runner.lines()[0].startswith(f"gcloud artifacts docker images describe {plan.image}")
    assert lines[0] == f"check: {shlex.join(runner.commands[0])}"
    uploads = [i for i, line in enumerate(lines) if "/templates/" in line]
    index_writes = [i for i, line in enumerate(lines) if "/releases/" in line]
    assert len(uploads) == 2 and len(index_writes) == 2
    assert max(uploads) < min(index_writes)  # a release is visible only once complete
    assert all(isinstance(actions.actions[i], Upload) for i in uploads)
    assert not any(actions.actions[i].overwrite for i in uploads)  # type: ignore[union-attr]
    assert lines[-1].endswith("gs://acme-prod-retrain/releases/latest.json")
    assert index.specs["churn"].images == [plan.image]
    ir = json.loads((compiled / "ir" / "churn.pipeline.json").read_text())
    assert "deploymentSpec" in ir and "pipelineSpec" not in ir
    objects = _objects(gcs)
    assert sorted(objects) == [
        f"releases/{SHA}.json",
        "releases/latest.json",
        f"templates/churn/{SHA}.json",
        f"templates/house-prices/{SHA}.json",
    ]
    assert json.loads(objects[f"templates/churn/{SHA}.json"]) == ir
    assert ReleaseIndex.model_validate_json(objects["releases/latest.json"]) == index


def test_a_published_template_is_never_overwritten_but_latest_is(
    tmp_path: Path, gcs: Any, storage: ObjectStore
) -> None:
    plan = pinned_release("code")
    compiled = _compiled(tmp_path, plan.image)
    _apply(publish_plan(plan, compiled, config())[0], RecordingRunner(answer=_pushed), storage)
    before = _objects(gcs)
    again = pinned_release("code", git_sha="b" * 40)
    republished = again.model_copy(
        update={"specs": [s.model_copy(update={"template_uri": p.template_uri})
                          for s, p in zip(again.specs, plan.specs, strict=True)]}
    )  # fmt: skip
    (compiled / "churn.json").write_text((compiled / "churn.json").read_text() + " ")
    _apply(
        publish_plan(republished, compiled, config())[0], RecordingRunner(answer=_pushed), storage
    )
    after = _objects(gcs)
    assert after[f"templates/churn/{SHA}.json"] == before[f"templates/churn/{SHA}.json"]
    assert json.loads(after["releases/latest.json"])["git_sha"] == "b" * 40


def test_an_image_not_pushed_publishes_nothing(
    tmp_path: Path, gcs: Any, storage: ObjectStore
) -> None:
    plan = pinned_release("code")
    compiled = _compiled(tmp_path, plan.image)
    runner = RecordingRunner(answer=refuse("NOT_FOUND: image"))
    with pytest.raises(BackendError, match="not pushed yet"):
        _apply(publish_plan(plan, compiled, config())[0], runner, storage)
    assert _objects(gcs) == {}


def test_a_template_naming_a_local_image_is_refused(tmp_path: Path) -> None:
    plan = pinned_release("code")
    compiled = _compiled(tmp_path, "retrain-pipelines:local")
    with pytest.raises(BackendError, match="retrain-pipelines:local"):
        publish_plan(plan, compiled, config())


def test_a_template_not_compiled_blocks_the_plan_and_a_dry_run_says_so(tmp_path: Path) -> None:
    plan = plan_release(SPECS, "code", config(), None)
    actions, _ = publish_plan(plan, tmp_path, config())
    uri = plan.specs[0].template_uri
    assert (
        actions.lines()[0] == f"not ready: {tmp_path}/churn.json is not compiled (it goes to {uri})"
    )
    runner = RecordingRunner()
    with pytest.raises(BackendError, match=r"churn\.json is not compiled"):
        _apply(actions, runner)
    assert runner.commands == []


def test_carried_templates_are_copied_server_side(
    tmp_path: Path, gcs: Any, storage: ObjectStore
) -> None:
    plan = plan_release(SPECS, "code-1", config(), _released("code-1"))
    actions, _ = publish_plan(plan, tmp_path, config())
    copies = [a for a in actions.actions if isinstance(a, Copy)]
    assert copies[0].source.endswith(f"/churn/{'a' * 40}.json")
    assert copies[0].uri.endswith(f"/churn/{SHA}.json")
    for copy in copies:
        gcs.bucket(BUCKET).blob(copy.source.split("/", 3)[3]).upload_from_string(copy.source)
    _apply(actions, RecordingRunner(), storage)
    objects = _objects(gcs)
    assert objects[f"templates/churn/{SHA}.json"] == copies[0].source.encode()


def test_read_previous_release(gcs: Any, storage: ObjectStore) -> None:
    index = _released("x")
    assert read_previous(config(), storage) is None  # the first release
    latest = gcs.bucket(BUCKET).blob("releases/latest.json")
    latest.upload_from_string(index.model_dump_json())
    assert read_previous(config(), storage) == index
    latest.upload_from_string("{not json")
    with pytest.raises(BackendError, match="not a release index"):
        read_previous(config(), storage)


def test_a_storage_error_reading_the_previous_release_is_not_a_first_release(
    gcs: Any, gcs_emulator: str
) -> None:
    storage = GcsStorage(lambda: storage_client("acme-prod", emulator=gcs_emulator))
    with pytest.raises(BackendError, match="bucket no-such-bucket does not exist"):
        read_previous(config(bucket="no-such-bucket"), storage)
    refused = GcsStorage(
        lambda: storage_client("acme-prod", emulator=f"http://127.0.0.1:{free_port()}"), 1.0
    )
    with pytest.raises(TransientError, match=r"latest\.json"):
        read_previous(config(), refused)


# The IAM permission each Cloud Storage JSON API request needs, from the API reference
# ("Authorization" section of each method's page,
# https://cloud.google.com/storage/docs/json_api/v1/objects/get, .../objects/list,
# .../buckets/get); the download path is objects.get with alt=media.
GCS_PERMISSIONS = (
    ("GET", re.compile(r"^/download/storage/v1/b/[^/]+/o/[^/]+$"), "storage.objects.get"),
    ("GET", re.compile(r"^/storage/v1/b/[^/]+/o/[^/]+$"), "storage.objects.get"),
    ("GET", re.compile(r"^/storage/v1/b/[^/]+/o$"), "storage.objects.list"),
    ("GET", re.compile(r"^/storage/v1/b/[^/]+$"), "storage.buckets.get"),
)


class RecordingSession(requests.Session):
    """The HTTP session google-cloud-storage sends through (its `_http`), recording each
    request's method and path, apart from the library's own background bucket lookups."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str]] = []
        self.background: list[tuple[str, str]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        path = urllib.parse.urlsplit(str(url)).path  # object names stay %-encoded
        # google-cloud-storage 3.17 fetches bucket metadata for its telemetry in a daemon
        # thread (_bucket_metadata_cache.py, BucketMetadataCache._fetch_background): a bucket
        # GET whose 403 it caches as a fallback, never raised to the caller.
        cache = any(f.filename.endswith("_bucket_metadata_cache.py") for f in extract_stack())
        (self.background if cache else self.requests).append((str(method), path))
        return super().request(method, url, *args, **kwargs)

    @staticmethod
    def permissions(requests: list[tuple[str, str]]) -> list[str]:
        found = []
        for method, path in requests:
            (permission,) = [
                p for m, pattern, p in GCS_PERMISSIONS if m == method and pattern.match(path)
            ]
            found.append(permission)
        return found


def test_a_missing_release_index_needs_no_bucket_permission(gcs: Any, gcs_emulator: str) -> None:
    """`retrain deploy plan` of the first release runs as retrain-deployer, which holds
    roles/storage.objectAdmin on the bucket (infra/iam.json): object permissions only."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs_lib

    session = RecordingSession()
    client = gcs_lib.Client(
        project="acme-prod",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": gcs_emulator},
        _http=session,
    )
    storage = GcsStorage(lambda: client)
    assert read_previous(config(), storage) is None
    held = json.loads((REPO / "tests" / "iam" / "role_permissions.json").read_text())
    deployer = {
        p
        for g in json.loads((REPO / "infra" / "iam.json").read_text())["grants"]
        if g["account"] == "deployer" and g["scope"] == "bucket"
        for p in held[g["role"]]
    }
    assert session.requests, "no request recorded"
    assert set(session.permissions(session.requests)) <= deployer, session.requests
    assert set(session.permissions(session.background)) <= {"storage.buckets.get"}
    with pytest.raises(BackendError, match="bucket no-such-bucket does not exist"):
        read_previous(config(bucket="no-such-bucket"), storage)


def test_images_in_a_real_compiled_template() -> None:
    assert images_in(json.loads((COMPILED / "template.json").read_text())) == [
        "retrain-pipelines:local"
    ]


# -- images by digest -------------------------------------------------------------------------


def test_a_template_naming_its_image_by_tag_is_refused(tmp_path: Path) -> None:
    plan = plan_release(SPECS, "code", config(), None)  # not pinned: the tag of the commit
    compiled = _compiled(tmp_path, plan.image)
    with pytest.raises(
        BackendError, match=r"churn: the template names .*/pipelines:[0-9a-f]{40} by tag"
    ):
        publish_plan(plan, compiled, config())


def test_the_plan_pins_the_pushed_tag_to_the_digest_artifact_registry_reports() -> None:
    tag = plan_release(SPECS, "code", config(), None).image
    runner = RecordingRunner(answer=lambda argv: DIGEST + "\n")
    assert pin(tag, runner) == PINNED
    assert runner.lines() == [
        f"gcloud artifacts docker images describe {tag} --format=value(image_summary.digest)"
    ]
    with pytest.raises(BackendError, match=r"cannot pin .*NOT_FOUND"):
        pin(tag, RecordingRunner(answer=refuse("NOT_FOUND: image")))
    with pytest.raises(BackendError, match="answered 'latest'"):
        pin(tag, RecordingRunner(answer=lambda argv: "latest"))


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("host:5000/a/b:tag", "host:5000/a/b"),
        ("host/a/b@sha256:" + "f" * 64, "host/a/b"),
        ("host/a/b:tag@sha256:" + "f" * 64, "host/a/b"),
        ("host:5000/a/b", "host:5000/a/b"),
    ],
)
def test_the_repository_of_an_image_reference(image: str, repository: str) -> None:
    assert repository_of(image) == repository


def test_a_release_that_named_its_image_by_tag_is_compiled_again() -> None:
    previous = _released("code-1")
    tagged = {
        name: spec.model_copy(update={"images": [f"{repository_of(PINNED)}:{'a' * 40}"]})
        for name, spec in previous.specs.items()
    }
    old = previous.model_copy(update={"specs": tagged})
    assert [s.action for s in plan_release(SPECS, "code-1", config(), old).specs] == [
        "compile",
        "compile",
    ]
