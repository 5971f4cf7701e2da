"""`retrain route` (dry run of the router), `retrain up` and `retrain stack` (the local
stack)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from retrain.cli.parsers import add_command
from retrain.errors import RetrainError
from retrain.settings import Settings


def register(subparsers: Any) -> None:
    route = add_command(
        subparsers,
        "route",
        "dry run: print the decisions for an event (Pub/Sub message or log entry)",
        "retrain route tests/golden/events/bigquery_v2_load.json",
    )
    route.add_argument("event", type=Path, help="JSON file: a Pub/Sub push body or a log entry")
    route.add_argument("--specs", type=Path, default=Path("specs"), help="spec directory")
    route.add_argument(
        "--kind",
        choices=["auto", "data_arrival", "drift", "run_complete", "schedule"],
        default="auto",
    )
    route.set_defaults(handler=_route)

    up = add_command(
        subparsers,
        "up",
        "start the local stack: emulators, function servers, topics; Ctrl-C stops it",
        "retrain up --specs specs --workdir work",
        description="Runs until SIGINT (Ctrl-C), SIGTERM or SIGHUP, then stops every process it "
        "started (a second signal kills them at once); they also stop if this process is "
        "killed. The endpoints are recorded in WORKDIR/stack.json while it runs, where "
        "`retrain data append` and `retrain stack` find them.",
    )
    up.add_argument("--specs", type=Path, default=Path("specs"))
    up.add_argument("--workdir", type=Path, default=Path("work"), help="one stack per directory")
    up.add_argument("--project", default="retrain-local")
    up.add_argument("--memory-state", action="store_true", help="no Firestore emulator")
    up.set_defaults(handler=_up)

    stack = add_command(
        subparsers,
        "stack",
        "is a local stack running in the work directory, and where",
        "retrain stack --workdir work",
        description="Exit 0 with its endpoints when running; 1 when none is, or its record is "
        "stale (its process is gone).",
    )
    stack.add_argument("--workdir", type=Path, default=Path("work"))
    stack.set_defaults(handler=_stack)


def _route(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.backends.base import DryRunBackend
    from retrain.events.envelope import kind_of, unwrap
    from retrain.routing.decision import MemoryLog
    from retrain.routing.index import load_index
    from retrain.routing.service import Service
    from retrain.runs import RunOutcome
    from retrain.state.memory import MemoryStore

    class NoSink:
        def handle(self, outcome: RunOutcome) -> None:
            del outcome

    try:
        raw = args.event.read_bytes()
    except OSError as exc:
        raise RetrainError(f"cannot read {args.event}: {exc}") from exc
    index = load_index(args.specs)
    log = MemoryLog()
    service = Service(
        index=lambda: index,
        store=MemoryStore(),
        backend=DryRunBackend(),
        sink=NoSink,
        log=log,
    )
    kind = args.kind
    if kind == "auto":
        try:
            kind = kind_of(unwrap(raw).payload)
        except RetrainError:
            kind = "data_arrival"  # the decoder will reject it with the reason
    for decision in service.handle(kind, raw, args.event.name):
        print(json.dumps(decision.summary()))
    return 0


def _up(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.localstack.discovery import Claim, record_for
    from retrain.localstack.signals import Stopped, stop_on_signals
    from retrain.localstack.stack import LocalStack, StackConfig

    config = StackConfig(
        project=args.project,
        specs_dir=args.specs,
        workdir=args.workdir,
        logs_dir=args.workdir / "logs",
        firestore=not args.memory_state,
    )
    try:
        with stop_on_signals(), Claim(args.workdir) as claim:
            if claim.replaced is not None:
                print(f"replacing {claim.replaced.explain()}")
            print("starting the local stack...", flush=True)
            with LocalStack(config) as stack:
                for line in stack.describe():
                    print(line)
                endpoints = {name: proc.url for name, proc in stack.procs.items()}
                groups = [proc.pgid for proc in stack.procs.values()]
                logs = config.logs_dir.resolve()
                claim.publish(record_for(config.project, stack.env, endpoints, groups, logs))
                print(
                    f"ready (recorded in {claim.path}): `retrain data append SPEC --rows N` "
                    "publishes to it. Ctrl-C stops.",
                    flush=True,
                )
                while all(proc.popen.poll() is None for proc in stack.procs.values()):
                    time.sleep(0.5)
                dead = [n for n, p in stack.procs.items() if p.popen.poll() is not None]
                print(f"stopping: {', '.join(dead)} exited", flush=True)
    except Stopped as stop:
        print(f"stopped on {stop.name}; no process left behind")
        return 0
    print("stopped; no process left behind")
    return 1  # a process of the stack died on its own


def _stack(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.localstack.discovery import find

    found = find(args.workdir)
    print(found.explain())
    if found.state != "running" or found.record is None:
        return 1
    for line in found.record.describe():
        print(f"  {line}")
    return 0
