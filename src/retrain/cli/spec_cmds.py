"""`retrain validate` and `retrain schema`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from retrain.spec import json_schema, load_specs, spec_paths

DEFAULT_SPECS_DIR = "specs"


def register(subparsers: Any) -> None:
    validate = subparsers.add_parser(
        "validate",
        help="check spec files; one line per problem as FILE:LINE: field: message",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  retrain validate specs/churn.yaml\n  retrain validate  # all of specs/",
    )
    validate.add_argument("paths", nargs="*", default=[DEFAULT_SPECS_DIR], help="files or dirs")
    validate.set_defaults(handler=_validate)

    schema = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of spec files (checked in as specs/schema.json)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  retrain schema > specs/schema.json",
    )
    schema.set_defaults(handler=_schema)


def _validate(args: argparse.Namespace) -> int:
    paths = spec_paths(args.paths)
    if not paths:
        print(f"retrain validate: no spec files in {' '.join(args.paths)}", file=sys.stderr)
        return 1
    specs = load_specs(paths)
    for spec in specs:
        print(f"ok  {spec.name:<24} {spec.task:<22} version {spec.fingerprint()}")
    return 0


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write(schema_text())
    return 0
