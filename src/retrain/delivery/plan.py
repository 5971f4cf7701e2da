"""A delivery step's plan: plain values saying what it would change, in order.

Every step (`templates`, `functions`, `schedules`, `promotions`, `candidate`) first builds a
`Plan` from local files and what it has read; it changes nothing. The CLI then either prints it
(`--dry-run`) or hands it to `retrain.delivery.apply`, which carries each action out through
the ports. Checks come first in a plan, so a failed check changes nothing.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from retrain.delivery.config import DeployConfig
from retrain.runs import RunRequest
from retrain.spec.model import Promotion


def show(argv: Sequence[str]) -> str:
    """One copy-pasteable shell line for an argv."""
    return shlex.join(argv)


@dataclass(frozen=True)
class Run:
    """A command line, for what no client library does (gcloud functions, scheduler, eventarc,
    artifacts; the template registry upload in the pipeline environment)."""

    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"run: {show(self.argv)}"


@dataclass(frozen=True)
class CheckImage:
    """Refuse to go on unless the registry has `image`; `otherwise` says what did not happen."""

    image: str
    otherwise: str

    @property
    def argv(self) -> tuple[str, ...]:
        # No Artifact Registry client library is installed; gcloud answers with the digest.
        return ("gcloud", "artifacts", "docker", "images", "describe", self.image,
                "--format=value(image_summary.digest)")  # fmt: skip

    def __str__(self) -> str:
        return f"check: {show(self.argv)}"


@dataclass(frozen=True)
class Upload:
    """A local file to a gs:// object; without `overwrite` an existing object is kept."""

    path: Path
    uri: str
    overwrite: bool = False

    def __str__(self) -> str:
        return f"upload: {self.path} -> {self.uri}{'' if self.overwrite else ' (if absent)'}"


@dataclass(frozen=True)
class Copy:
    """A gs:// object to another, server side; an existing destination is kept."""

    source: str
    uri: str

    def __str__(self) -> str:
        return f"copy: {self.source} -> {self.uri} (if absent)"


@dataclass(frozen=True)
class DeadLetter:
    """Give the Pub/Sub subscription behind a function's Eventarc trigger its dead-letter topic
    and backoff. The subscription exists only once the function is deployed, so it is looked up
    when this is carried out: `find_trigger` prints the trigger, `find_subscription` (with the
    trigger in place of `trigger`) prints the subscription, and `update` (with it in place of
    `subscription`) sets the policy."""

    function: str
    find_trigger: tuple[str, ...]
    find_subscription: tuple[str, ...]
    update: tuple[str, ...]
    trigger: str
    subscription: str

    def __str__(self) -> str:
        return f"run: {show(self.update)}"


@dataclass(frozen=True)
class Promote:
    """Make run `promotion.version` the `promotion.alias` version of its registry model."""

    spec: str
    promotion: Promotion
    config: DeployConfig

    def __str__(self) -> str:
        p = self.promotion
        return f"promote {self.spec}: {p.registry_model} alias {p.alias} -> run {p.version}"


@dataclass(frozen=True)
class Submit:
    """Start a PipelineJob from the template at `template_uri`."""

    request: RunRequest
    template_uri: str

    def __str__(self) -> str:
        r = self.request
        return f"submit: {r.job_id} ({self.template_uri}) labels {r.labels()}"


Action = Run | CheckImage | Upload | Copy | DeadLetter | Promote | Submit


@dataclass(frozen=True)
class Plan:
    """Actions in order, and `blockers`: what keeps the plan from being carried out yet (a
    template that is not compiled); a dry run shows them, `apply` refuses them."""

    actions: tuple[Action, ...] = ()
    blockers: tuple[str, ...] = ()

    def __add__(self, other: Plan) -> Plan:
        return Plan(self.actions + other.actions, self.blockers + other.blockers)

    def lines(self) -> list[str]:
        """What a dry run prints."""
        return [f"not ready: {b}" for b in self.blockers] + [f"would {a}" for a in self.actions]
