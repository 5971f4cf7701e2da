"""The local stand-in for BigQuery: the spec's training query, run by DuckDB over its CSV.

A local run should train on what a cloud run would select, so the spec's BigQuery SQL is
translated with sqlglot and executed against the local file, which plays the watched table.
The result is what the local pipeline's ExampleGen reads. Queries that name other tables
cannot run here and say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from retrain.datacheck import TableProfile, kept_rows_filter, problems
from retrain.errors import PipelineError
from retrain.spec.model import Spec

SOURCE_VIEW = "retrain_source"


def local_query(spec: Spec) -> str:
    """The spec's training query in DuckDB's dialect, reading the view of the local file."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        tree = sqlglot.parse_one(spec.training_query(), read="bigquery")
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" (line {first.get('line')}, column {first.get('col')})" if first else ""
        reason = first.get("description") or str(exc).splitlines()[0]
        raise PipelineError(
            f"{spec.name}: data.query is not valid BigQuery SQL: {reason}{where}"
        ) from exc

    def to_view(node: Any) -> Any:
        if isinstance(node, exp.Table) and node.name:
            name = ".".join(p for p in (node.catalog, node.db, node.name) if p)
            if name != spec.data.table:
                raise PipelineError(
                    f"{spec.name}: data.query reads {name}, but local runs only have the "
                    f"watched table {spec.data.table} (data.local.path)"
                )
            return exp.to_table(SOURCE_VIEW)
        return node

    return str(tree.transform(to_view).sql(dialect="duckdb"))


def facts_path(csv: Path) -> Path:
    """Where `materialize` leaves the data facts for the pipeline's summary."""
    return csv.with_name(csv.name + ".facts.json")


_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE")


def _kind(duck_type: str) -> str:
    if duck_type.startswith(_NUMBER_TYPES) or duck_type.startswith("DECIMAL"):
        return "number"
    return "text" if duck_type == "VARCHAR" else duck_type.lower()


def _label_text(value: Any) -> str:
    if isinstance(value, bool):  # DuckDB reads true/false (and yes/no) columns as BOOLEAN
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _profile(db: Any, spec: Spec, query: str) -> TableProfile:
    relation = db.sql(query)
    columns = {str(c): _kind(str(t)) for c, t in zip(relation.columns, relation.types, strict=True)}
    base = TableProfile(columns=columns, rows=0)
    if any(n not in columns for n in [*spec.feature_names, spec.label]):
        return base
    db.execute(f"CREATE TEMP VIEW retrain_selected AS {query}")
    numeric = [f.name for f in spec.features if f.type == "numeric"]
    if spec.task == "regression":
        numeric.append(spec.label)
    text_in_numeric = {}
    for name in numeric:
        if columns[name] == "number":
            continue
        bad = db.execute(
            f"SELECT DISTINCT CAST({name} AS VARCHAR) FROM retrain_selected "
            f"WHERE {name} IS NOT NULL AND TRY_CAST({name} AS DOUBLE) IS NULL LIMIT 4"
        ).fetchall()
        if bad:
            text_in_numeric[name] = sorted(str(row[0]) for row in bad)
    reasons = kept_rows_filter(spec)
    cases = " ".join(f"WHEN {cond} THEN {i}" for i, (_, cond) in enumerate(reasons))
    counts = db.execute(
        f"SELECT CASE {cases} ELSE -1 END AS why, count(*) FROM retrain_selected GROUP BY why"
    ).fetchall()
    by_reason = {int(why): int(n) for why, n in counts}
    keep = " AND ".join(f"NOT ({cond})" for _, cond in reasons)
    labels = []
    if spec.task != "regression":
        labels = db.execute(
            f"SELECT DISTINCT {spec.label} FROM retrain_selected WHERE {keep} LIMIT 1001"
        ).fetchall()
    return TableProfile(
        columns=columns,
        rows=by_reason.get(-1, 0),
        rows_read=sum(by_reason.values()),
        dropped={reasons[i][0]: n for i, n in sorted(by_reason.items()) if i >= 0},
        text_in_numeric=text_in_numeric,
        label_values=sorted({_label_text(row[0]) for row in labels}),
    )


def check(spec: Spec, repo_root: Path, out: Path | None = None) -> TableProfile:
    """Profile the local table through the training query; raise on any data problem.

    With `out`, also write the rows to train on (label present, drop_row features present)
    as CSV, and the data facts beside it for the run's summary.
    """
    import duckdb

    source = repo_root / spec.data.local.path
    if not source.is_file():
        raise PipelineError(f"{spec.name}: local data {source} does not exist")
    query = local_query(spec)
    with duckdb.connect() as db:
        # DDL takes no prepared parameters: quote the path as a SQL string literal.
        literal = "'" + str(source).replace("'", "''") + "'"
        db.execute(
            f"CREATE VIEW {SOURCE_VIEW} AS SELECT * FROM read_csv_auto({literal}, header = true)"
        )
        try:
            profile = _profile(db, spec, query)
        except duckdb.Error as exc:
            raise PipelineError(f"{spec.name}: data.query failed on {source}: {exc}") from exc
        found = problems(spec, profile)
        if found:
            raise PipelineError("\n".join(str(p) for p in found))
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            keep = " AND ".join(f"NOT ({cond})" for _, cond in kept_rows_filter(spec))
            db.sql(f"SELECT * FROM retrain_selected WHERE {keep}").write_csv(str(out), header=True)
            facts = {"rows_read": profile.rows_read, "rows_dropped": profile.dropped}
            facts_path(out).write_text(json.dumps(facts, sort_keys=True) + "\n")
    return profile


def materialize(spec: Spec, repo_root: Path, out: Path) -> int:
    """Run the training query over the local CSV and write the rows to train on to `out`.

    Returns the number of rows written. Data problems (a missing column, text in a numeric
    column, too few rows, a one-class label, ...) raise before any TFX step starts.
    """
    return check(spec, repo_root, out).rows
