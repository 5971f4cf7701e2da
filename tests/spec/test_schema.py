"""The checked-in JSON Schema must match the model, so editors autocomplete the truth."""

from __future__ import annotations

import json
from pathlib import Path

from retrain.cli.spec_cmds import schema_text

SCHEMA = Path(__file__).resolve().parents[2] / "specs" / "schema.json"


def test_checked_in_schema_is_fresh() -> None:
    assert SCHEMA.read_text() == schema_text(), (
        "specs/schema.json is stale: run `.venv/bin/retrain schema > specs/schema.json`"
    )


def test_schema_rejects_unknown_keys_and_lists_required_fields() -> None:
    schema = json.loads(schema_text())
    assert schema["additionalProperties"] is False
    assert {"name", "task", "data", "features", "label", "trainer", "evaluation"} <= set(
        schema["required"]
    )
