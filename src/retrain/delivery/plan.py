"""A delivery step's plan: plain values saying what it would change, in order.

Every step (`templates`, `functions`, `schedules`, `promotions`, `candidate`) first builds a
`DeliveryPlan` from local files and what it has read; it changes nothing. The CLI then either
prints it (`--dry-run`) or hands it to `retrain.delivery.apply`, which carries each action out
through the ports. Checks come first in a plan, so a failed check changes nothing.

    Run         a command line, for what no client library does (gcloud functions, scheduler,
                eventarc; the template registry upload in the pipeline environment)
    CheckImage  refuse to go on unless Artifact Registry has the image
    Upload      a local file to gs://, kept if there unless `overwrite`
    Copy        gs:// to gs://, server side, kept if there
    DeadLetter  the dead-letter policy on the subscription behind a function's trigger
    Promote     a run's model becomes its registry model's alias version
    Submit      a PipelineJob from a template
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retrain.delivery.config import DeployConfig
from retrain.runs import RunRequest
from retrain.shell import show
from retrain.spec.model import Promotion


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]


@dataclass(frozen=True)
class CheckImage:
    image: str
    otherwise: str  # what did not happen when the image is missing

    @property
    def argv(self) -> tuple[str, ...]:
        # No Artifact Registry client library is installed; gcloud answers with the digest.
        return ("gcloud", "artifacts", "docker", "images", "describe", self.image,
                "--format=value(image_summary.digest)")  # fmt: skip


@dataclass(frozen=True)
class Upload:
    path: Path
    uri: str
    overwrite: bool = False


@dataclass(frozen=True)
class Copy:
    source: str
    uri: str


@dataclass(frozen=True)
class DeadLetter:
    """The subscription exists only once the function is deployed, so it is looked up when this
    is carried out: `find_trigger` prints the trigger, `find_subscription` (with it in place of
    the placeholder `trigger`) prints the subscription, and `update` (with that in place of
    `subscription`) sets the policy."""

    function: str
    find_trigger: tuple[str, ...]
    find_subscription: tuple[str, ...]
    update: tuple[str, ...]
    trigger: str
    subscription: str


@dataclass(frozen=True)
class Promote:
    """Whether it uploads or moves an alias is known only from the registry, which a dry run
    does not read: it is decided when carried out."""

    spec: str
    promotion: Promotion
    config: DeployConfig


@dataclass(frozen=True)
class Submit:
    request: RunRequest
    template_uri: str


Action = Run | CheckImage | Upload | Copy | DeadLetter | Promote | Submit


def describe(action: Action) -> str:
    """One line: what a dry run prints after "would ", what `apply` prints after "+ "."""
    match action:
        case Run(argv=argv) | DeadLetter(update=argv):
            return f"run: {show(argv)}"
        case CheckImage():
            return f"check: {show(action.argv)}"
        case Upload(path=path, uri=uri, overwrite=overwrite):
            return f"upload: {path} -> {uri}{'' if overwrite else ' (if absent)'}"
        case Copy(source=source, uri=uri):
            return f"copy: {source} -> {uri} (if absent)"
        case Promote(spec=spec, promotion=p):
            return f"promote {spec}: {p.registry_model} alias {p.alias} -> run {p.version}"
        case Submit(request=r, template_uri=uri):
            return f"submit: {r.job_id} ({uri}) labels {r.labels()}"


@dataclass(frozen=True)
class DeliveryPlan:
    """Actions in order, and `blockers`: what keeps the plan from being carried out yet (a
    template that is not compiled); a dry run shows them, `apply` refuses them."""

    actions: tuple[Action, ...] = ()
    blockers: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """What a dry run prints."""
        return [f"not ready: {b}" for b in self.blockers] + [
            f"would {describe(a)}" for a in self.actions
        ]
