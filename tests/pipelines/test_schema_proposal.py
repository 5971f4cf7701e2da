"""A schema change PR's edit, checked by TFDV itself: house-prices data with a new city and a
new column raise exactly those anomalies against the checked-in schema, and the schema the PR
proposes makes them go away (and still passes `retrain validate`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from retrain.anomalies import classify
from retrain.codehost.schema_edit import propose_schema
from retrain.pipeline_env.process import QUIET_TF
from retrain.spec import load_spec
from retrain.spec.tfschema import schema_path, schema_problems
from retrain.summary import Anomaly
from tests.conftest import PIPELINE_ENV, REPO
from tests.test_anomalies import summary_with

pytestmark = pytest.mark.tfx

# Run in the pipeline environment (TFDV): anomalies of a CSV against a schema, as JSON.
VALIDATE = """
import json, sys
import tensorflow_data_validation as tfdv
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2
schema = text_format.Parse(open(sys.argv[2]).read(), schema_pb2.Schema())
found = tfdv.validate_statistics(tfdv.generate_statistics_from_csv(sys.argv[1]), schema)
print(json.dumps({
    name: {"kinds": sorted(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason),
           "description": info.description}
    for name, info in found.anomaly_info.items()
}))
"""


def anomalies(csv: Path, schema: Path) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [str(PIPELINE_ENV.python), "-c", VALIDATE, str(csv), str(schema)],
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET_TF},
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_proposed_schema_accepts_a_new_category_and_a_new_column(tmp_path: Path) -> None:
    spec_file = REPO / "specs" / "house-prices.yaml"
    lines = (REPO / "data" / "house-prices.csv").read_text().splitlines()[:301]
    header = lines[0].split(",")
    city = header.index("city")
    rows = [line.split(",") for line in lines[1:]]
    for row in rows[::10]:
        row[city] = "coimbra"
    csv = tmp_path / "changed.csv"
    csv.write_text(
        "\n".join(",".join(r) for r in [[*header, "energy_label"], *[[*r, "A"] for r in rows]])
        + "\n"
    )

    found = anomalies(csv, schema_path(spec_file))
    assert {k: v["kinds"] for k, v in found.items()} == {
        "city": ["ENUM_TYPE_UNEXPECTED_STRING_VALUES"],
        "energy_label": ["SCHEMA_NEW_COLUMN"],
    }
    summary = summary_with(
        [
            Anomaly(feature=name, kind=",".join(v["kinds"]), description=str(v["description"]))  # type: ignore[arg-type]
            for name, v in found.items()
        ]
    )
    edit = propose_schema(schema_path(spec_file).read_text(), classify(summary))
    assert edit.applied == (
        "new categories of city: coimbra",
        "new column energy_label: recorded as known, not used",
    )
    proposed_spec = tmp_path / "house-prices.yaml"
    proposed_spec.write_text(spec_file.read_text())
    schema_path(proposed_spec).write_text(edit.text)
    assert anomalies(csv, schema_path(proposed_spec)) == {}
    assert schema_problems(load_spec(proposed_spec), proposed_spec) == []
