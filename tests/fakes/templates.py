"""Compiled templates for the Vertex tests: the checked-in TFX 1.16 template (schema 2.0.0,
checked against a fresh compile in tests/pipelines/test_compile.py) and a copy declared with a
newer schema, served from memory by URI."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from retrain.errors import BackendError

TEMPLATE = Path(__file__).parent.parent / "delivery" / "fixtures" / "template.json"


def compiled() -> dict[str, Any]:
    """The pipeline spec TFX 1.16 compiles (what a release publishes on GCS)."""
    spec: dict[str, Any] = json.loads(TEMPLATE.read_text())["pipelineSpec"]
    return spec


def newer_schema() -> dict[str, Any]:
    """The same pipeline as a KFP 2 compiler writes it: schema 2.1.0, `parameterType`."""
    spec = copy.deepcopy(compiled())
    spec["schemaVersion"] = "2.1.0"
    for definition in spec["root"]["inputDefinitions"]["parameters"].values():
        definition["parameterType"] = definition.pop("type")
    return spec


class MemoryTemplates:
    """A TemplateReader over a dict: URI -> pipeline spec."""

    def __init__(self, templates: dict[str, dict[str, Any]]) -> None:
        self.templates = templates
        self.reads: list[str] = []

    def read(self, uri: str) -> bytes:
        self.reads.append(uri)
        if uri not in self.templates:
            raise BackendError(f"pipeline template {uri}: not found")
        return json.dumps(self.templates[uri]).encode()
