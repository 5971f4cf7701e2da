"""How every subcommand is declared, so each `--help` ends with examples laid out one way."""

from __future__ import annotations

import argparse
from typing import Any


def add_command(
    subparsers: Any, name: str, help: str, *examples: str, description: str | None = None
) -> argparse.ArgumentParser:
    """A subcommand whose help ends with `examples`, one `retrain ...` line each."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n" + "\n".join(f"  {line}" for line in examples),
    )
    return parser
