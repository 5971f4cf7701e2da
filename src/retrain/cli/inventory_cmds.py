"""`retrain status`, `lineage`, `explain` and `inventory`: the recorded facts, read back.

All four read through the same ports the service writes through (run backend, state store,
blob store, code host) plus git and the decision log, from a local work directory (default) or
the cloud project the RETRAIN_* settings name (`--cloud`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from retrain.inventory import explain as explain_mod
from retrain.inventory import lineage as lineage_mod
from retrain.inventory import status as status_mod
from retrain.inventory.gather import Inventory, gather
from retrain.report.escape import terminal
from retrain.settings import Settings

WHERE = (
    "where the facts are: --workdir DIR (default work/; `make demo` leaves its facts in "
    "work/demo, read when work/ has none) or --cloud (the project of RETRAIN_PROJECT: Vertex "
    "jobs, Firestore, the summaries in GCS, GitHub, Cloud Logging, git in the checkout)"
)


def _where(parser: argparse.ArgumentParser, json_flag: bool = True) -> None:
    parser.add_argument("--workdir", type=Path, default=Path("work"), help="local work directory")
    parser.add_argument("--cloud", action="store_true", help="read the cloud project instead")
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _add(subparsers: Any, name: str, help_: str, example: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help_,
        description=f"{help_[0].upper()}{help_[1:]}.\n\n{WHERE}",
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def register(subparsers: Any) -> None:
    status = _add(
        subparsers,
        "status",
        "per spec: production version, last runs, pending rows, open PRs, last decisions",
        "retrain status churn --workdir work/demo",
    )
    status.add_argument("spec", metavar="SPEC", nargs="?", help="one spec (default: all)")
    _where(status)
    status.set_defaults(handler=_status)

    lineage = _add(
        subparsers,
        "lineage",
        "the recorded chain of one model version: alias, promotion PR, run, evaluation, baseline",
        "retrain lineage churn@champion",
    )
    lineage.add_argument("target", metavar="SPEC[@ALIAS]|JOB_ID")
    _where(lineage)
    lineage.set_defaults(handler=_lineage)

    explain = _add(
        subparsers,
        "explain",
        "the decisions recorded for one delivery, and the policy behind them",
        "retrain explain 1234567890123456",
    )
    explain.add_argument("event_id", metavar="EVENT_ID")
    _where(explain)
    explain.set_defaults(handler=_explain)

    site = _add(
        subparsers,
        "inventory",
        "write the model inventory as a static site (no server, no script, nothing fetched)",
        "retrain inventory --out build/inventory && open build/inventory/index.html",
    )
    site.add_argument("--out", type=Path, required=True, help="directory to write the site into")
    _where(site)
    site.set_defaults(handler=_inventory)


def _gather(args: argparse.Namespace, settings: Settings, only: str | None = None) -> Inventory:
    from retrain.wiring import build_inventory

    return gather(build_inventory(settings, cloud=args.cloud, workdir=args.workdir), only)


def _print(args: argparse.Namespace, model: BaseModel, text: str) -> int:
    """Titles, owners, reasons and names come from specs, PRs, events and runs: shown with
    their control characters escaped, so none reaches the terminal (JSON escapes its own)."""
    if args.json:
        sys.stdout.write(model.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(terminal(text))
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    inventory = _gather(args, settings, args.spec)
    if args.spec and not inventory.models:
        print(f"retrain status: no spec named {terminal(args.spec)!r}", file=sys.stderr)
        return 2
    return _print(args, inventory, status_mod.render(inventory))


def _lineage(args: argparse.Namespace, settings: Settings) -> int:
    chain = lineage_mod.lineage(_gather(args, settings), args.target)
    return _print(args, chain, lineage_mod.render(chain))


def _explain(args: argparse.Namespace, settings: Settings) -> int:
    explanation = explain_mod.explain(_gather(args, settings), args.event_id)
    return _print(args, explanation, explain_mod.render(explanation))


def _inventory(args: argparse.Namespace, settings: Settings) -> int:
    from retrain.inventory.site import write_site

    inventory = _gather(args, settings)
    written = write_site(inventory, args.out, datetime.now(timezone.utc))
    if args.json:
        done = {"out": str(args.out), "files": len(written), "models": len(inventory.models)}
        print(json.dumps(done))
    else:
        print(
            f"wrote {len(written)} files for {len(inventory.models)} models to {args.out}/; "
            f"open {args.out / 'index.html'} in a browser"
        )
    return 0
