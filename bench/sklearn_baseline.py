"""A scikit-learn baseline on one run's own train/eval split (pipeline environment).

Reads the examples CsvExampleGen wrote for a run (Split-train, Split-eval), fits a
regularised linear model (logistic regression for classifiers, ridge for regression) with
mean imputation, scaling and one-hot categories, and prints its metric on the eval split as
one JSON line. Called by bench/model_quality.py, which runs the TFX pipeline first.

    .venv-pipelines/bin/python -m bench.sklearn_baseline --spec S.yaml --examples DIR
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
from typing import Any

from retrain.spec import load_spec
from retrain.spec.model import Spec

MISSING = "__missing__"


def _records(split_dir: str) -> list[dict[str, Any]]:
    import tensorflow as tf

    rows = []
    files = sorted(glob.glob(os.path.join(split_dir, "*.gz")))
    for raw in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        example = tf.train.Example.FromString(raw)
        row: dict[str, Any] = {}
        for name, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            values = list(getattr(feature, kind).value) if kind else []
            if values:
                value = values[0]
                row[name] = value.decode() if isinstance(value, bytes) else value
        rows.append(row)
    return rows


def _frame(rows: list[dict[str, Any]], spec: Spec) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    columns: dict[str, list[Any]] = {}
    for f in spec.features:
        if f.type == "numeric":
            columns[f.name] = [float(r[f.name]) if f.name in r else np.nan for r in rows]
        else:
            columns[f.name] = [str(r.get(f.name, MISSING)) for r in rows]
    labels = [r[spec.label] for r in rows]
    return pd.DataFrame(columns), np.asarray(labels)


def baseline(spec: Spec, examples: str) -> dict[str, Any]:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train_x, train_y = _frame(_records(os.path.join(examples, "Split-train")), spec)
    eval_x, eval_y = _frame(_records(os.path.join(examples, "Split-eval")), spec)
    numeric = [f.name for f in spec.features if f.type == "numeric"]
    categorical = [f.name for f in spec.features if f.type == "categorical"]
    prepare = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    metric = spec.evaluation.metrics[0].name
    if spec.task == "regression":
        model = make_pipeline(prepare, RidgeCV(alphas=[0.01, 0.1, 1.0, 10.0, 100.0]))
        model.fit(train_x, train_y.astype(float))
        predicted = model.predict(eval_x)
        value = math.sqrt(mean_squared_error(eval_y.astype(float), predicted))
        if metric == "mae":
            value = float(abs(predicted - eval_y.astype(float)).mean())
        name = "ridge regression"
    else:
        model = make_pipeline(prepare, LogisticRegression(max_iter=2000))
        model.fit(train_x, train_y)
        if metric == "auc":
            value = float(roc_auc_score(eval_y, model.predict_proba(eval_x)[:, 1]))
        else:
            value = float(accuracy_score(eval_y, model.predict(eval_x)))
        name = "logistic regression"
    return {
        "metric": metric,
        "value": value,
        "model": name,
        "train_rows": len(train_y),
        "eval_rows": len(eval_y),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--examples", required=True, help="CsvExampleGen's examples directory")
    args = parser.parse_args(argv)
    print(json.dumps(baseline(load_spec(args.spec), args.examples)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
