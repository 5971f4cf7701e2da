"""Every command (and sub-command) explains itself with an example in --help."""

from __future__ import annotations

import argparse

import pytest

from retrain.cli.main import build_parser


def _leaf_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        return [(path, parser)]
    leaves = []
    for action in subcommands:
        for name, child in action.choices.items():
            leaves += _leaf_parsers(child, (*path, name))
    return leaves


LEAVES = _leaf_parsers(build_parser())


def test_all_expected_commands_exist() -> None:
    names = {" ".join(path) for path, _ in LEAVES}
    assert {
        "validate",
        "schema",
        "run",
        "compile",
        "route",
        "up",
        "demo",
        "compare",
        "data generate",
        "data append",
    } <= names


@pytest.mark.parametrize(("path", "parser"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_help_has_an_example(path: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
    text = parser.format_help()
    assert "example" in text.lower(), f"`retrain {' '.join(path)} --help` shows no example"
    assert "retrain " in text.split("xample", 1)[1], "the example should be a retrain command"
