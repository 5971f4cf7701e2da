"""Entry point of `retrain`. Domain errors become one clear line and a non-zero exit.

The settings are built here, once per command, after the arguments are parsed and inside the
error handler: `--help` works whatever the environment holds, and a bad RETRAIN_* variable is
one clear line. Every handler receives them: `handler(args, settings) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Sequence

from retrain.errors import RetrainError, SpecError
from retrain.report.escape import terminal
from retrain.settings import Settings

# Each module defines `register(subparsers)`; its parsers set `handler(args, settings) -> int`.
COMMAND_MODULES = (
    "retrain.cli.spec_cmds",
    "retrain.cli.init_cmds",
    "retrain.cli.data_cmds",
    "retrain.cli.pipeline_cmds",
    "retrain.cli.event_cmds",
    "retrain.cli.demo_cmds",
    "retrain.cli.compare_cmds",
    "retrain.cli.pr_cmds",
    "retrain.cli.deliver_cmds",
    "retrain.cli.inventory_cmds",
)


def _version() -> str:
    try:
        return importlib.metadata.version("retrain")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retrain",
        description="GitOps retraining: validate specs, run and compile pipelines, route events.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `retrain COMMAND --help` for the options and an example of each command.",
    )
    parser.add_argument("--version", action="version", version=f"retrain {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
        code: int = args.handler(args, settings)
        return code
    except SpecError as exc:
        for problem in exc.problems:
            print(terminal(str(problem)), file=sys.stderr)
        return 1
    except RetrainError as exc:  # its text may quote events, specs or runs
        print(f"retrain {args.command}: {terminal(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"retrain {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
