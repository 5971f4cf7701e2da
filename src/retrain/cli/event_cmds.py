"""`retrain route` (dry run of the router), `retrain up` (the local stack) and
`retrain data append` (new rows plus the audit-log entry BigQuery would write)."""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from retrain.errors import RetrainError
from retrain.pipeline_env import repo_root


def register(subparsers: Any) -> None:
    route = subparsers.add_parser(
        "route",
        help="dry run: print the decisions for an event (Pub/Sub message or log entry)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  retrain route tests/golden/events/bigquery_v2_insert.json",
    )
    route.add_argument("event", type=Path, help="JSON file: a Pub/Sub push body or a log entry")
    route.add_argument("--specs", type=Path, default=Path("specs"), help="spec directory")
    route.add_argument(
        "--kind",
        choices=["auto", "data_arrival", "drift", "run_complete", "schedule"],
        default="auto",
    )
    route.set_defaults(handler=_route)

    up = subparsers.add_parser(
        "up",
        help="start the local stack: emulators, function servers, topics; Ctrl-C stops it",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  retrain up --specs specs --workdir work",
    )
    up.add_argument("--specs", type=Path, default=Path("specs"))
    up.add_argument("--workdir", type=Path, default=Path("work"))
    up.add_argument("--project", default="retrain-local")
    up.add_argument("--memory-state", action="store_true", help="no Firestore emulator")
    up.set_defaults(handler=_up)

    data = subparsers.choices.get("data") or subparsers.add_parser(
        "data", help="local example data"
    )
    commands = next(
        (a for a in data._actions if isinstance(a, argparse._SubParsersAction)),
        None,
    ) or data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    append = commands.add_parser(
        "append",
        help="append rows to a spec's local table and publish the BigQuery audit-log entry",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  retrain data append specs/churn.yaml --rows 600 --drift 0.3",
    )
    append.add_argument("spec", type=Path, help="spec file")
    append.add_argument("--rows", type=int, required=True)
    append.add_argument("--drift", type=float, default=0.0, help="shift the distributions")
    append.add_argument("--project", default="retrain-local", help="Pub/Sub project")
    append.add_argument("--topic", default="retrain-data-arrival")
    append.add_argument("--no-publish", action="store_true", help="print the entry instead")
    append.set_defaults(handler=_append)


def _route(args: argparse.Namespace) -> int:
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


def _up(args: argparse.Namespace) -> int:
    from retrain.localstack.stack import LocalStack, StackConfig

    config = StackConfig(
        project=args.project,
        specs_dir=args.specs,
        workdir=args.workdir,
        logs_dir=args.workdir / "logs",
        firestore=not args.memory_state,
    )
    print("starting the local stack...", flush=True)
    with LocalStack(config) as stack:
        for line in stack.describe():
            print(line)
        print(
            "ready: `retrain data append SPEC --rows N` publishes to it. Ctrl-C stops.", flush=True
        )
        try:
            while all(proc.popen.poll() is None for proc in stack.procs.values()):
                time.sleep(0.5)
            dead = [n for n, p in stack.procs.items() if p.popen.poll() is not None]
            print(f"stopping: {', '.join(dead)} exited")
        except KeyboardInterrupt:
            print("stopping...")
    print("stopped; no process left behind")
    return 0


def _append(args: argparse.Namespace) -> int:
    from retrain.events.bigquery import table_data_change_entry
    from retrain.sample_data import GENERATORS, write_csv
    from retrain.spec.load import parse_spec

    if args.rows < 1:
        raise RetrainError("--rows must be at least 1")
    if not args.no_publish and "PUBSUB_EMULATOR_HOST" not in os.environ:
        raise RetrainError("PUBSUB_EMULATOR_HOST is not set: run `retrain up` and export it")
    try:
        spec = parse_spec(args.spec.read_text(encoding="utf-8"), str(args.spec))
    except OSError as exc:
        raise RetrainError(f"cannot read {args.spec}: {exc}") from exc
    generator = GENERATORS.get(spec.name)
    if generator is None:
        raise RetrainError(f"no example data generator for spec {spec.name!r}")
    path = repo_root() / spec.data.local.path
    seed = int(time.time_ns() % 2**31)  # new rows, not a repeat of the first ones
    written = write_csv(path, generator(args.rows, seed, args.drift), append=True)
    job_id = f"retrain_append_{uuid.uuid4().hex[:12]}"
    entry = table_data_change_entry(spec.data.table, written, job_id, datetime.now(timezone.utc))
    print(f"appended {written} rows to {path} (table {spec.data.table})")
    if args.no_publish:
        print(json.dumps(entry, indent=2))
        return 0
    if "PUBSUB_EMULATOR_HOST" not in os.environ:
        raise RetrainError(
            "PUBSUB_EMULATOR_HOST is not set: start `retrain up` and export what it prints"
        )
    from retrain.backends.local import PubSubPublisher

    PubSubPublisher(args.project).publish(args.topic, entry, {})
    print(f"published the audit entry of {job_id} to {args.topic}")
    return 0
