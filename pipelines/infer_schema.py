"""Infer a spec's TFDV schema from the rows a run would read (pipeline environment).

Called by `retrain schema infer`, which selects the rows (DuckDB over the local table, less the
rows a run drops) and writes them to a CSV. Statistics come from TFDV's CSV reader, the
decoder CsvExampleGen uses, so the inferred types are the ones a local run's examples carry.

The inferred schema is then made to say what the spec says:
- only the spec's features and label are kept (a query may select more);
- a categorical feature held as integers is marked `int_domain { is_categorical: true }`;
- a feature a run may see missing (every policy but `drop_row`) has no fixed shape, so a row
  without it parses (as the trainer's and Transform's sparse path expects) and a few missing
  values are an anomaly to report, not a failed run. The label and `drop_row` features are
  always present (their rows are dropped before ExampleGen) and keep the shape TFDV inferred.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from retrain.spec import load_spec
from retrain.spec.model import Spec


def infer(spec: Spec, csv: Path) -> object:
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2

    stats = tfdv.generate_statistics_from_csv(data_location=str(csv))
    schema = tfdv.infer_schema(stats, infer_feature_shape=True)
    declared = {f.name: f for f in spec.features}
    wanted = [*declared, spec.label]
    kept = [f for f in schema.feature if f.name in wanted]
    missing = sorted(set(wanted) - {f.name for f in kept})
    if missing:
        raise ValueError(f"columns {', '.join(missing)} are not in the selected rows of {csv}")
    del schema.feature[:]
    schema.feature.extend(sorted(kept, key=lambda f: wanted.index(f.name)))
    for feature in schema.feature:
        spec_feature = declared.get(feature.name)
        if spec_feature is None:
            continue
        if spec_feature.type == "numeric" and feature.type == schema_pb2.BYTES:
            raise ValueError(f"numeric feature {feature.name} holds text in {csv}")
        if spec_feature.type == "categorical" and feature.type == schema_pb2.INT:
            feature.int_domain.is_categorical = True
        if spec_feature.type == "categorical" and feature.type == schema_pb2.FLOAT:
            raise ValueError(f"categorical feature {feature.name} holds fractions in {csv}")
        if spec_feature.missing_policy != "drop_row":
            feature.ClearField("shape")
    # Domains of dropped columns would be left dangling.
    used = {f.domain for f in schema.feature if f.HasField("domain")}
    kept_domains = [d for d in schema.string_domain if d.name in used]
    del schema.string_domain[:]
    schema.string_domain.extend(kept_domains)
    return schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--rows", type=int, default=0)
    args = parser.parse_args(argv)

    from google.protobuf import text_format

    spec = load_spec(args.spec)
    try:
        schema = infer(spec, Path(args.csv))
    except ValueError as exc:
        print(f"error: {spec.name}: {exc}", file=sys.stderr)
        return 1
    header = (
        f"# TFDV schema of spec {spec.name}, written by `retrain schema infer` from "
        f"{args.rows} rows; review it like code.\n"
        "# The pipeline imports it (ImportSchemaGen) and ExampleValidator checks each run's "
        "data against it.\n"
    )
    Path(args.out).write_text(header + text_format.MessageToString(schema), encoding="utf-8")
    print(f"schema: {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
