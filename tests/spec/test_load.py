"""Listing and loading specs: one list of spec files, one parse per file, one set of rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from retrain.cli.pipeline_cmds import resolve_spec
from retrain.errors import SpecError
from retrain.routing.index import load_index
from retrain.spec import load_specs, spec_files, spec_paths
from retrain.spec.load import parse_spec
from tests.routing.helpers import SPECS


def test_spec_files_lists_yaml_and_yml_and_nothing_else(tmp_path: Path) -> None:
    for name in ("b.yml", "a.yaml", "schema.json", "notes.md"):
        (tmp_path / name).write_text("x")
    (tmp_path / "dir.yaml").mkdir()
    assert [p.name for p in spec_files(tmp_path)] == ["a.yaml", "b.yml"]
    assert spec_paths([tmp_path, tmp_path / "schema.json"])[-1].name == "schema.json"


def test_a_yml_spec_is_indexed(tmp_path: Path) -> None:
    (tmp_path / "churn.yml").write_text((SPECS / "churn.yaml").read_text())
    assert load_index(tmp_path).get("churn") is not None


def test_the_index_applies_the_loaders_name_rule_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text((SPECS / "churn.yaml").read_text())
    with pytest.raises(SpecError) as caught:
        load_index(tmp_path)
    (problem,) = caught.value.problems
    assert str(problem) == (
        f"{tmp_path / 'other.yaml'}:2: name: name 'churn' must match the file name 'other'"
    )


def test_the_index_skips_the_code_checks_the_functions_cannot_run(tmp_path: Path) -> None:
    text = (SPECS / "churn.yaml").read_text()
    path = tmp_path / "churn.yaml"
    path.write_text(text.replace("pipelines.trainers.tabular", "not_shipped.trainer"))
    assert load_index(tmp_path).get("churn") is not None
    with pytest.raises(SpecError) as caught:
        load_specs([path])
    assert [p.field for p in caught.value.problems] == ["trainer.module"]


def test_each_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "churn.yaml"
    path.write_text((SPECS / "churn.yaml").read_text())
    composed: list[object] = []
    original = yaml.SafeLoader.get_single_node

    def counting(loader: yaml.SafeLoader) -> object:
        composed.append(loader)
        return original(loader)

    monkeypatch.setattr(yaml.SafeLoader, "get_single_node", counting)
    load_specs([path], check_code=False)
    assert len(composed) == 1


def test_run_finds_a_yml_spec_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "churn.yml").write_text((SPECS / "churn.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    spec, path = resolve_spec("churn", tmp_path)
    assert (spec.name, path) == ("churn", tmp_path / "specs" / "churn.yml")


def test_unprintable_characters_are_a_problem_on_line_one() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec("\x1f", "specs/x.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (1, "") and "unacceptable character" in problem.message
