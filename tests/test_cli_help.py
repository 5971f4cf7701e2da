"""Every command (and sub-command) explains itself with an example in --help."""

from __future__ import annotations

import argparse
import re

import pytest

from retrain.cli.main import build_parser, main
from tests.conftest import REPO


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


# Files an example writes or a run creates, not files a reader can expect to find.
GENERATED = ("work/", "build/")
FILE_NAME = re.compile(r"^[\w.-]+(?:/[\w.-]+)+\.(?:yaml|yml|json|csv)$")


@pytest.mark.parametrize(("path", "parser"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_files_named_in_examples_exist(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    examples = parser.format_help().split("xample", 1)[1]
    named = [
        word
        for word in examples.split()
        if FILE_NAME.match(word) and not word.startswith(GENERATED)
    ]
    missing = [name for name in named if not (REPO / name).is_file()]
    assert not missing, f"`retrain {' '.join(path)} --help` names missing files: {missing}"


def test_the_example_file_check_sees_repository_paths() -> None:
    assert FILE_NAME.match("tests/golden/events/bigquery_v2_load.json")
    assert not FILE_NAME.match("REGION-docker.pkg.dev/P/retrain/pipelines:SHA")


@pytest.mark.parametrize(("path", "parser"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_help_works_whatever_the_environment_holds(
    path: tuple[str, ...],
    parser: argparse.ArgumentParser,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Settings are read after parsing: a bad variable cannot break `--help`."""
    del parser
    monkeypatch.setenv("RETRAIN_PROJECT", "Bad_Project")
    monkeypatch.setenv("RETRAIN_DRY_RUN", "1")
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: retrain {' '.join(path)}")


def test_a_bad_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RETRAIN_PROJECT", "Bad_Project")
    assert main(["validate", str(REPO / "specs" / "churn.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("retrain validate: invalid settings: RETRAIN_PROJECT:")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_retrain_dry_run_is_read_with_the_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """RETRAIN_DRY_RUN=1 still makes a deploy step a dry run, read after parsing."""
    monkeypatch.setenv("RETRAIN_DRY_RUN", "1")
    code = main(["deploy", "plan", "--project", "acme-prod", "--git-sha", "abc1234",
                 "--out", "/dev/null", str(REPO / "specs")])  # fmt: skip
    assert code == 0
    assert "dry run:" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"retrain {version('retrain')}\n"
