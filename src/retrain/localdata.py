"""The local stand-in for BigQuery: the spec's training query, run by DuckDB over its CSV.

A local run should train on what a cloud run would select, so the spec's BigQuery SQL is
translated with sqlglot and executed against the local file, which plays the watched table.
The result is what the local pipeline's ExampleGen reads. Queries that name other tables
cannot run here and say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def materialize(spec: Spec, repo_root: Path, out: Path) -> int:
    """Run the training query over the local CSV and write the selected rows to `out` (CSV).

    Returns the number of rows written; an empty selection is an error, since the pipeline
    could not train on it.
    """
    import duckdb

    source = repo_root / spec.data.local.path
    if not source.is_file():
        raise PipelineError(f"{spec.name}: local data {source} does not exist")
    query = local_query(spec)
    out.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as db:
        # DDL takes no prepared parameters: quote the path as a SQL string literal.
        literal = "'" + str(source).replace("'", "''") + "'"
        db.execute(
            f"CREATE VIEW {SOURCE_VIEW} AS SELECT * FROM read_csv_auto({literal}, header = true)"
        )
        try:
            relation = db.sql(query)
        except duckdb.Error as exc:
            raise PipelineError(f"{spec.name}: data.query failed on {source}: {exc}") from exc
        missing = sorted({*spec.feature_names, spec.label} - {str(c) for c in relation.columns})
        if missing:
            raise PipelineError(f"{spec.name}: data.query does not select {', '.join(missing)}")
        rows = int(db.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0])
        if rows == 0:
            raise PipelineError(f"{spec.name}: data.query selected no rows from {source}")
        relation.write_csv(str(out), header=True)
    return rows
