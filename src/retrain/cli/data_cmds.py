"""`retrain data`: the example specs' local data, made deterministically (`generate`), new
rows plus the audit-log entry BigQuery would write for them (`append`), and a column removed
plus the entry of that schema change (`drop-column`)."""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from retrain.cli.parsers import add_command
from retrain.data.samples import DEFAULT_ROWS, GENERATORS, write_csv
from retrain.errors import RetrainError, SpecError
from retrain.settings import Settings
from retrain.spec import Spec, load_spec, spec_paths
from retrain.wiring import build_pipeline_env


def register(subparsers: Any) -> None:
    data = subparsers.add_parser("data", help="local example data")
    commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    generate = add_command(
        commands,
        "generate",
        "write the example specs' local CSV files (deterministic; keeps existing files; other "
        "specs' data is yours and is never touched)",
        "retrain data generate --force",
    )
    generate.add_argument("--specs", default="specs", help="spec directory (default: specs)")
    generate.add_argument("--force", action="store_true", help="rewrite files that exist")
    generate.add_argument("--seed", type=int, default=7)
    generate.set_defaults(handler=_generate)

    append = add_command(
        commands,
        "append",
        "append rows to a spec's local table and publish the BigQuery audit-log entry",
        "retrain data append specs/churn.yaml --rows 600 --drift 0.3",
        "retrain data append specs/churn.yaml --from new-customers.csv",
        description="Publishes to the stack `retrain up --workdir WORKDIR` runs, found in "
        "WORKDIR/stack.json; PUBSUB_EMULATOR_HOST, when set, wins.",
    )
    append.add_argument("spec", type=Path, help="spec file")
    source = append.add_mutually_exclusive_group(required=True)
    source.add_argument("--rows", type=int, help="N example rows (example specs only)")
    source.add_argument(
        "--from",
        dest="from_csv",
        type=Path,
        metavar="FILE.csv",
        help="your own rows: a CSV with the table's columns (checked before anything is written)",
    )
    append.add_argument("--drift", type=float, default=0.0, help="shift the distributions")
    append.add_argument(
        "--workdir", type=Path, default=Path("work"), help="where `retrain up` runs"
    )
    append.add_argument("--project", help="Pub/Sub project (default: the running stack's)")
    append.add_argument("--topic", default="retrain-data-arrival")
    append.add_argument("--no-publish", action="store_true", help="print the entry instead")
    append.set_defaults(handler=_append)

    drop = add_command(
        commands,
        "drop-column",
        "remove a column from a spec's local table and publish the audit entry BigQuery logs "
        "for the schema change (a schema-drift alert when the spec reads the column)",
        "retrain data drop-column specs/house-prices.yaml city",
        description="Publishes to the stack `retrain up --workdir WORKDIR` runs, found in "
        "WORKDIR/stack.json; PUBSUB_EMULATOR_HOST, when set, wins.",
    )
    drop.add_argument("spec", type=Path, help="spec file")
    drop.add_argument("column", help="the column to remove")
    drop.add_argument("--workdir", type=Path, default=Path("work"), help="where `retrain up` runs")
    drop.add_argument("--project", help="Pub/Sub project (default: the running stack's)")
    drop.add_argument("--topic", default="retrain-data-arrival")
    drop.add_argument("--no-publish", action="store_true", help="print the entry instead")
    drop.set_defaults(handler=_drop_column)


def _generate(args: argparse.Namespace, settings: Settings) -> int:
    """Example data for the example specs only; any other spec's data is the user's, and a
    spec that does not load is left to `retrain validate` (this step runs in `make setup`)."""
    root = build_pipeline_env(settings).repo_root
    for file in spec_paths([args.specs]):
        try:
            spec = load_spec(file)
        except SpecError:
            print(f"skipped   {file}: not a valid spec (`retrain validate {file}` says why)")
            continue
        path = root / spec.data.local.path
        shown = spec.data.local.path
        generator = GENERATORS.get(spec.name)
        if generator is None:
            state = "present" if path.is_file() else "missing"
            print(
                f"skipped   {spec.name}: not an example spec; its data ({shown}, {state}) is yours"
            )
            continue
        if path.exists() and not args.force:
            print(f"kept      {shown} (exists; --force rewrites it)")
            continue
        rows = write_csv(path, generator(DEFAULT_ROWS[spec.name], args.seed, 0.0))
        print(f"generated {shown} ({rows} rows)")
    return 0


def _append(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.spec.load import parse_spec

    if args.rows is not None and args.rows < 1:
        raise RetrainError("--rows must be at least 1")
    target = None if args.no_publish else _pubsub_target(args)  # before touching the data
    try:
        spec = parse_spec(args.spec.read_text(encoding="utf-8"), str(args.spec))
    except OSError as exc:
        raise RetrainError(f"cannot read {args.spec}: {exc}") from exc
    if args.from_csv is not None:
        from retrain.data.rows import append_rows

        root = build_pipeline_env(settings).repo_root
        written = append_rows(spec, root, args.from_csv)
        print(f"appended {written} rows of {args.from_csv} to {spec.data.local.path}")
        return _announce(spec, written, target, args.topic)
    generator = GENERATORS.get(spec.name)
    if generator is None:
        raise RetrainError(
            f"{args.spec}: --rows makes example rows, and only the example specs "
            f"({', '.join(GENERATORS)}) have a generator; append your own rows with "
            "--from FILE.csv"
        )
    path = build_pipeline_env(settings).repo_root / spec.data.local.path
    seed = int(time.time_ns() % 2**31)  # new rows, not a repeat of the first ones
    written = write_csv(path, generator(args.rows, seed, args.drift), append=True)
    print(f"appended {written} rows to {path} (table {spec.data.table})")
    return _announce(spec, written, target, args.topic)


def _announce(spec: Spec, written: int, target: tuple[str, str] | None, topic: str) -> int:
    """The audit entry BigQuery would log for `written` new rows, sent to the stack."""
    from retrain.events.bigquery import table_data_change_entry

    job_id = f"retrain_append_{uuid.uuid4().hex[:12]}"
    entry = table_data_change_entry(spec.data.table, written, job_id, datetime.now(timezone.utc))
    code = _send(entry, target, topic, f"the audit entry of {job_id}")
    if target is not None:
        print(f"next: `retrain status {spec.name}` (pending rows, the run it starts)")
    return code


def _drop_column(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.data.table import drop_column
    from retrain.spec.load import parse_spec

    target = None if args.no_publish else _pubsub_target(args)  # before touching the data
    try:
        spec = parse_spec(args.spec.read_text(encoding="utf-8"), str(args.spec))
    except OSError as exc:
        raise RetrainError(f"cannot read {args.spec}: {exc}") from exc
    entry = drop_column(
        spec, build_pipeline_env(settings).repo_root, args.column, datetime.now(timezone.utc)
    )
    print(f"removed column {args.column} from {spec.data.local.path} (table {spec.data.table})")
    code = _send(entry, target, args.topic, "the schema change's audit entry")
    if target is not None:
        print(
            f"next: `retrain status {spec.name}` (the schema-drift alert); "
            "`retrain data generate --force` restores the example data"
        )
    return code


def _send(entry: dict[str, Any], target: tuple[str, str] | None, topic: str, what: str) -> int:
    if target is None:
        print(json.dumps(entry, indent=2))
        return 0
    from retrain.google.pubsub import PubSubPublisher

    project, host = target
    PubSubPublisher(project, emulator_host=host).publish(topic, entry, {})
    print(f"published {what} to {topic} (emulator {host})")
    return 0


def _pubsub_target(args: argparse.Namespace) -> tuple[str, str]:
    """(project, emulator host): PUBSUB_EMULATOR_HOST when set explicitly, else the stack
    recorded in the work directory."""
    from retrain.localstack.discovery import find
    from retrain.settings import emulator_hosts

    explicit = emulator_hosts().get("PUBSUB_EMULATOR_HOST")
    if explicit:
        return args.project or "retrain-local", explicit
    found = find(args.workdir)
    if found.state != "running" or found.record is None:
        raise RetrainError(f"{found.explain()}; or set PUBSUB_EMULATOR_HOST")
    host = found.record.env.get("PUBSUB_EMULATOR_HOST", "")
    if not host:
        raise RetrainError(f"{found.path}: no PUBSUB_EMULATOR_HOST recorded")
    return args.project or found.record.project, host
