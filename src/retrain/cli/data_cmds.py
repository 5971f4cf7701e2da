"""`retrain data generate`: the example specs' local data, made deterministically."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from retrain.errors import RetrainError
from retrain.sample_data import DEFAULT_ROWS, GENERATORS, write_csv
from retrain.spec import load_specs, spec_paths


def register(subparsers: Any) -> None:
    data = subparsers.add_parser("data", help="local example data")
    commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    generate = commands.add_parser(
        "generate",
        help="write the example specs' local CSV files (deterministic; skips existing files)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  retrain data generate --force",
    )
    generate.add_argument("--specs", default="specs", help="spec directory (default: specs)")
    generate.add_argument("--force", action="store_true", help="rewrite files that exist")
    generate.add_argument("--seed", type=int, default=7)
    generate.set_defaults(handler=_generate)


def _generate(args: argparse.Namespace) -> int:
    for spec in load_specs(spec_paths([args.specs])):
        generator = GENERATORS.get(spec.name)
        if generator is None:
            raise RetrainError(f"no example data generator for spec {spec.name!r}")
        path = Path(spec.data.local.path)
        if path.exists() and not args.force:
            print(f"kept      {path} (exists)")
            continue
        rows = write_csv(path, generator(DEFAULT_ROWS[spec.name], args.seed, 0.0))
        print(f"generated {path} ({rows} rows)")
    return 0
