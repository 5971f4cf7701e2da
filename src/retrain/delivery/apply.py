"""Carrying out a plan, action by action, through the ports. The only place where a planned
delivery step touches the cloud; it prints `+ <action>` before each one and what it did after
those that decide something (a promotion, a submitted run)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO, TypeVar

from retrain.backends.base import RunBackend
from retrain.blobs import BlobReader, ObjectStore
from retrain.delivery.plan import (
    Action,
    CheckImage,
    Copy,
    DeadLetter,
    DeliveryPlan,
    Promote,
    Run,
    Submit,
    Upload,
    describe,
)
from retrain.delivery.promotions import ModelRegistry, promote
from retrain.errors import BackendError, ConfigError
from retrain.shell import Runner

T = TypeVar("T")


@dataclass
class Ports:
    """What a plan's actions go through; a step's plan needs only some of them."""

    runner: Runner
    storage: ObjectStore | None = None
    registry: ModelRegistry | None = None
    blobs: BlobReader | None = None
    backend: RunBackend | None = None


def apply(plan: DeliveryPlan, ports: Ports, echo: TextIO = sys.stdout) -> None:
    if plan.blockers:
        raise BackendError("cannot carry out the plan: " + "; ".join(plan.blockers))
    for action in plan.actions:
        print(f"+ {describe(action)}", file=echo, flush=True)
        outcome = _apply(action, ports)
        if outcome:
            print(outcome, file=echo, flush=True)


def _port(port: T | None, name: str, action: Action) -> T:
    if port is None:
        raise ConfigError(f"no {name} to carry out `{describe(action)}`")
    return port


def _apply(action: Action, ports: Ports) -> str:
    kept = ""
    match action:
        case Run():
            ports.runner.run(action.argv)
        case CheckImage():
            _check_image(action, ports.runner)
        case Upload():
            storage = _port(ports.storage, "storage", action)
            if not storage.upload(action.path, action.uri, overwrite=action.overwrite):
                kept = action.uri
        case Copy():
            if not _port(ports.storage, "storage", action).copy(action.source, action.uri):
                kept = action.uri
        case DeadLetter():
            _dead_letter(action, ports.runner)
        case Promote():
            registry = _port(ports.registry, "model registry", action)
            return promote(action, registry, _port(ports.blobs, "blob reader", action))
        case Submit():
            started = _port(ports.backend, "run backend", action).submit(action.request)
            return f"{'submitted' if started else 'already submitted'}: {action.request.job_id}"
    return f"  {kept} exists: kept" if kept else ""


def _check_image(action: CheckImage, runner: Runner) -> None:
    try:
        digest = runner.run(action.argv).strip()
    except BackendError:
        digest = ""
    if not digest:
        raise BackendError(f"image {action.image} is not pushed yet: {action.otherwise}")


def _dead_letter(action: DeadLetter, runner: Runner) -> None:
    trigger = runner.run(action.find_trigger).strip()
    subscription = ""
    if trigger:
        find = [trigger if a == action.trigger else a for a in action.find_subscription]
        subscription = runner.run(find).strip()
    if not subscription:
        raise BackendError(f"{action.function}: found no Pub/Sub subscription behind its trigger")
    runner.run([subscription if a == action.subscription else a for a in action.update])
