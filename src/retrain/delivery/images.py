"""Pipeline images are named by digest in every template we publish or submit.

A tag can be moved to other bytes after review (a candidate repository's tags are mutable;
even an immutable-tag repository can be recreated), a digest cannot. So the release plan pins
the image it pushed to the digest Artifact Registry reports, compile writes that reference into
the templates, and publishing or submitting refuses a template that names an image by tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from retrain.delivery.plan import CheckImage
from retrain.errors import BackendError
from retrain.shell import Runner

# Docker's content-addressable reference: NAME@sha256:<64 lowercase hex> (OCI image spec,
# descriptor digests; Artifact Registry reports `image_summary.digest` as `sha256:<hex>`).
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def repository_of(image: str) -> str:
    """`host/path/name` without its `:tag` or `@digest`."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: name.rindex(":")]
    return name


def is_pinned(image: str) -> bool:
    _, at, digest = image.partition("@")
    return bool(at) and DIGEST.match(digest) is not None


def unpinned(images: Iterable[str]) -> list[str]:
    return sorted({i for i in images if not is_pinned(i)})


def pin(image: str, runner: Runner) -> str:
    """`image` (a pushed tag) as `repository@sha256:...`, as Artifact Registry has it now."""
    try:
        digest = runner.run(CheckImage(image, "").argv).strip()
    except BackendError as exc:
        raise BackendError(f"cannot pin {image} to its digest: {exc}") from exc
    if not DIGEST.match(digest):
        raise BackendError(
            f"cannot pin {image} to its digest: Artifact Registry answered {digest[:80]!r}"
            " (is the image pushed?)"
        )
    return f"{repository_of(image)}@{digest}"


def refuse_unpinned(spec: str, images: Iterable[str], fix: str) -> None:
    tagged = unpinned(images)
    if tagged:
        raise BackendError(
            f"{spec}: the template names {', '.join(tagged)} by tag, not by digest; {fix}"
        )
