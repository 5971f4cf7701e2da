"""Recording a version in a spec's promotion section without disturbing the rest."""

from __future__ import annotations

import pytest
import yaml

from retrain.codehost import set_promotion_version
from retrain.errors import SpecError

SPEC = """\
# owned by the pricing team
name: house-prices
promotion:
  registry_model: house-prices   # the Model Registry entry
  alias: champion

# trailing comment
"""


def test_adds_a_version_inside_the_block() -> None:
    edited = set_promotion_version(SPEC, "run-7")
    assert yaml.safe_load(edited)["promotion"] == {
        "registry_model": "house-prices",
        "alias": "champion",
        "version": "run-7",
    }
    assert edited.splitlines()[5] == '  version: "run-7"'
    assert "# the Model Registry entry" in edited and edited.endswith("# trailing comment\n")


def test_replaces_an_existing_version_and_is_idempotent() -> None:
    once = set_promotion_version(SPEC, "run-7")
    twice = set_promotion_version(once, "run-8")
    assert yaml.safe_load(twice)["promotion"]["version"] == "run-8"
    assert set_promotion_version(twice, "run-8") == twice
    assert twice.count("version:") == 1


def test_versions_that_look_like_numbers_stay_strings() -> None:
    assert yaml.safe_load(set_promotion_version(SPEC, "0012"))["promotion"]["version"] == "0012"


def test_a_spec_without_a_block_promotion_section_is_refused() -> None:
    with pytest.raises(SpecError, match="no promotion"):
        set_promotion_version("name: x\n", "v1")
    with pytest.raises(SpecError, match="block-style"):
        set_promotion_version("promotion: {registry_model: x}\n", "v1")
