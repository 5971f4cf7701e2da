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


# Issue 25, finding 4: the values come from TFDV's statistics, not its prose. Run in the
# pipeline environment: the checked-in schema inferred from the old data, the new data's
# statistics (both splits, as StatisticsGen makes them), their anomalies, and the values the
# summary component records (`pipelines.components.domain_values`); then, given a proposed
# schema, the anomalies left.
STRUCTURED = """
import json, sys
import pandas as pd
import tensorflow_data_validation as tfdv
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2
from pipelines.components.domain_values import seen_values
old, new = json.load(open(sys.argv[1]))
def stats(values):
    return tfdv.generate_statistics_from_dataframe(pd.DataFrame({"country": values}))
splits = {"train": stats(new), "eval": stats(new[::2])}
if len(sys.argv) == 2:
    schema = tfdv.infer_schema(stats(old))
    out = {"schema": text_format.MessageToString(schema), "splits": {}}
    for split, found in splits.items():
        info = tfdv.validate_statistics(found, schema).anomaly_info["country"]
        out["splits"][split] = {
            "kinds": sorted(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason),
            "description": info.description,
            "values": seen_values(found, "country"),
        }
else:
    schema = text_format.Parse(open(sys.argv[2], encoding="utf-8").read(), schema_pb2.Schema())
    out = {"left": {split: [n for n in tfdv.validate_statistics(found, schema).anomaly_info]
                    for split, found in splits.items()},
           "domain": list(schema.string_domain[0].value)}
print(json.dumps(out))
"""
HOSTILE_VALUES = [
    "o'brien",
    'say "hi"',
    "back\\slash",
    "bell\x07ring",
    "line\u2028separator",
    "evil (~50%), injected",
    "par(en)thesis, with comma",
    "PT",
]


def structured(*args: Path) -> dict[str, object]:
    done = subprocess.run(
        [str(PIPELINE_ENV.python), "-c", STRUCTURED, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET_TF, "PYTHONPATH": str(REPO)},
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_new_categories_come_from_tfdvs_statistics_and_clear_exactly_its_anomalies(
    tmp_path: Path,
) -> None:
    """Quotes, backslashes, control characters, U+2028, commas and parentheses, new in both
    splits (the normal case): the prose ("[train] ...\\n[eval] ...", C-escaped, cut at
    "(~N%)") could not be read back; the statistics' values can, and the proposal still
    parses (one line per value)."""
    old = ["ES", "FR"] * 50
    new = ["ES", "FR"] * 20 + HOSTILE_VALUES * 5
    data = tmp_path / "data.json"
    data.write_text(json.dumps([old, new]))
    seen = structured(data)
    splits = seen["splits"]
    assert isinstance(splits, dict)
    summary = summary_with(
        [
            Anomaly(
                feature="country",
                kind=",".join(found["kinds"]),
                description=f"[{split}] {found['description']}",
                values=found["values"],
            )
            for split, found in splits.items()
        ]
    )
    (finding,) = classify(summary)
    assert finding.kinds == ("ENUM_TYPE_UNEXPECTED_STRING_VALUES",)
    # What the prose gave: values glued across splits, escaped twice, split at a comma.
    from retrain.codehost.schema_edit import new_values

    assert set(new_values(finding.description)) != set(HOSTILE_VALUES)
    schema_text = str(seen["schema"])
    edit = propose_schema(schema_text, [finding])
    assert edit.notes == ()
    assert len(edit.text.splitlines()) == len(schema_text.splitlines()) + len(HOSTILE_VALUES)
    proposed = tmp_path / "proposed.pbtxt"
    proposed.write_text(edit.text, encoding="utf-8")
    after = structured(data, proposed)
    assert after["left"] == {"train": [], "eval": []}
    assert sorted(after["domain"]) == sorted(["ES", "FR", *HOSTILE_VALUES])  # type: ignore[call-overload]
    # A later run's proposal starts from this text: still one value per line, still readable.
    again = propose_schema(edit.text, [finding])
    assert again.text == edit.text and again.notes == ()
