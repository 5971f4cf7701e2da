"""What a spec's training query may be: exactly one SELECT that reads only the watched table.

The query comes from a pull request and runs with the pipeline's BigQuery rights (and locally,
through DuckDB, with the developer's), so everything else is refused before it runs: DML and
DDL, several statements, scripting and what sqlglot can only keep as an opaque command
(EXECUTE IMMEDIATE, CALL, BEGIN...END), EXPORT DATA, SELECT INTO, and table functions
(EXTERNAL_QUERY, ML.PREDICT, read_text, ...), which read data that is not the watched table.
Common table expressions are fine: a name a WITH clause defines is not another table.
sqlglot is imported here only, lazily: it is installed in the service environment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from retrain.errors import RetrainError

if TYPE_CHECKING:
    from sqlglot import exp

    from retrain.spec.model import Spec


class QueryProblem(RetrainError):
    """The training query is not one SELECT over the watched table; the message says why."""


def _parse(sql: str) -> list[Any]:
    import sqlglot
    from sqlglot.errors import ParseError, SqlglotError

    try:
        return [tree for tree in sqlglot.parse(sql, read="bigquery") if tree is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" (line {first.get('line')}, column {first.get('col')})" if first else ""
        reason = first.get("description") or str(exc).splitlines()[0]
        raise QueryProblem(f"is not valid BigQuery SQL: {reason}{where}") from exc
    except SqlglotError as exc:  # the tokenizer's errors (an unclosed quote) are not parse errors
        reason = str(exc).splitlines()[0][:200]
        raise QueryProblem(f"is not valid BigQuery SQL: {reason}") from exc


def _forbidden() -> tuple[type[Any], ...]:
    from sqlglot import exp

    return (
        exp.Command,
        exp.Into,
        exp.Insert,
        exp.Update,
        exp.Delete,
        exp.Merge,
        exp.Create,
        exp.Drop,
        exp.Copy,
        exp.Export,
        exp.TruncateTable,
    )


def table_name(table: exp.Table) -> str:
    return ".".join(p for p in (table.catalog, table.db, table.name) if p)


def checked_query(sql: str, watched: str) -> exp.Query:
    """The parsed query when it is one SELECT (or set operation of SELECTs) reading only
    `watched` and its own common table expressions; QueryProblem otherwise."""
    from sqlglot import exp

    trees = _parse(sql)
    if len(trees) != 1:
        raise QueryProblem(f"must be exactly one SELECT statement, found {len(trees)} statements")
    (tree,) = trees
    if not isinstance(tree, exp.Select | exp.SetOperation):
        kind = "an opaque command" if isinstance(tree, exp.Command) else tree.key.upper()
        raise QueryProblem(f"must be a SELECT statement, not {kind}")
    forbidden = _forbidden()
    for node in tree.walk():
        if isinstance(node, forbidden):
            raise QueryProblem(f"may only select rows; it contains {node.key.upper()}")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise QueryProblem(
                f"reads from {table.this.sql(dialect='bigquery')[:80]!r}: table functions "
                f"are not allowed; select from {watched}"
            )
        name = table_name(table)
        if name == watched or (not table.db and name in ctes):
            continue
        raise QueryProblem(
            f"reads {name}, but local runs only have the watched table {watched} (data.local.path)"
        )
    return tree


def duckdb_query(sql: str, watched: str, view: str) -> str:
    """The checked query in DuckDB's dialect, with the watched table replaced by `view`."""
    from sqlglot import exp

    tree = checked_query(sql, watched)

    def to_view(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and table_name(node) == watched:
            return exp.to_table(view)
        return node

    return str(tree.transform(to_view).sql(dialect="duckdb"))


# What a snapshot-ready query reads the watched table as of, until the run fills it in: a
# string literal in the compiled query, replaced by the run's `data_snapshot` (`at_snapshot`).
SNAPSHOT_TOKEN = "@@retrain_data_snapshot@@"
# BigQuery keeps a table's history for its dataset's time travel window: `maxTimeTravelHours`
# of the Dataset resource, 48 to 168 in steps of 24, 168 (7 days) when unset (BigQuery's
# Dataset REST reference; google-cloud-bigquery `Dataset.max_time_travel_hours`).
TIME_TRAVEL = timedelta(days=7)
TIME_TRAVEL_HOURS = tuple(range(48, 169, 24))
_SNAPSHOT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")


def windowed_query(spec: Spec) -> str:
    """The spec's training query, restricted by data.window when it has one: the rows whose
    data.time_column is in (snapshot - window, snapshot], the snapshot still SNAPSHOT_TOKEN
    (`at_snapshot` on BigQuery, `retrain.data.local` locally, fill it in). Only the features
    and the label leave the window; BigQuery's dialect."""
    from retrain.spec.model import duration_of

    sql = spec.training_query()
    window, time_column = spec.data.window, spec.data.time_column
    if window is None or time_column is None:
        return sql
    tree = checked_query(sql, spec.data.table)
    if not tree.is_star and time_column not in tree.named_selects:
        raise QueryProblem(
            f"must select {time_column} (data.time_column), which data.window {window} filters on"
        )
    seconds = int(duration_of(window).total_seconds())
    columns = ", ".join([*spec.feature_names, spec.label])
    end = f"'{SNAPSHOT_TOKEN}'"
    # BigQuery compares a DATE or DATETIME with a TIMESTAMP only after a cast ("No matching
    # signature for operator >"); CAST(... AS TIMESTAMP) takes all three (a DATE as its
    # midnight, a DATETIME as UTC: GoogleSQL conversion rules), so any time column type works.
    moment = f"CAST({time_column} AS TIMESTAMP)"
    return (
        f"SELECT {columns} FROM ({tree.sql(dialect='bigquery')}) AS retrain_window "
        f"WHERE {moment} > TIMESTAMP_SUB({end}, INTERVAL {seconds} SECOND) "
        f"AND {moment} <= {end}"
    )


def time_travel_query(sql: str, watched: str) -> str:
    """The checked query reading the watched table `FOR SYSTEM_TIME AS OF` the run's snapshot
    (SNAPSHOT_TOKEN until `at_snapshot` fills it in), in BigQuery's dialect."""
    from sqlglot import exp

    tree = checked_query(sql, watched)
    for table in tree.find_all(exp.Table):
        if table_name(table) == watched:
            point = exp.Literal.string(SNAPSHOT_TOKEN)
            table.set("version", exp.Version(this="TIMESTAMP", kind="AS OF", expression=point))
    return str(tree.sql(dialect="bigquery"))


def snapshot_datasets(query: str) -> list[str]:
    """`PROJECT.DATASET` (or `DATASET`, in the job's project) of each table a compiled query
    reads `FOR SYSTEM_TIME AS OF`."""
    import sqlglot
    from sqlglot import exp

    found = set()
    for table in sqlglot.parse_one(query, read="bigquery").find_all(exp.Table):
        if table.args.get("version") is not None:
            found.add(".".join(p for p in (table.catalog, table.db) if p))
    return sorted(found)


def time_travel_window(query: str, hours_of: Callable[[str], int | None]) -> timedelta:
    """The shortest time travel window of the datasets the query reads as of a snapshot;
    `hours_of` gives a dataset's `maxTimeTravelHours` (None: unset, BigQuery's 7 days)."""
    window = TIME_TRAVEL
    for dataset in snapshot_datasets(query):
        hours = hours_of(dataset)
        if hours is None:
            continue
        if hours not in TIME_TRAVEL_HOURS:
            raise QueryProblem(
                f"dataset {dataset}: maxTimeTravelHours {hours} is not one BigQuery allows "
                f"({', '.join(map(str, TIME_TRAVEL_HOURS))})"
            )
        window = min(window, timedelta(hours=hours))
    return window


def at_snapshot(query: str, snapshot: str, now: datetime, window: timedelta = TIME_TRAVEL) -> str:
    """A time-travel query as the run executes it: as of `snapshot` (RFC 3339, whole seconds,
    UTC), or as of now when the run has none. The value comes from a runtime parameter, so it
    enters the SQL only in exactly that shape; past the time travel `window` of the table's
    dataset (`time_travel_window`) it is refused: the run could not read what the snapshot
    held, and BigQuery would only say the snapshot time is invalid."""
    literal = f"'{SNAPSHOT_TOKEN}'"
    if literal not in query:
        raise QueryProblem("the query has no snapshot placeholder: recompile the template")
    if not snapshot:
        return query.replace(literal, "CURRENT_TIMESTAMP()")
    if not _SNAPSHOT.fullmatch(snapshot):
        raise QueryProblem(f"data snapshot {snapshot[:40]!r} is not YYYY-MM-DDTHH:MM:SSZ")
    moment = datetime.strptime(snapshot, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    if now - moment > window:
        raise QueryProblem(
            f"data snapshot {snapshot} is older than BigQuery's {window.days}-day time "
            "travel window (the dataset's maxTimeTravelHours): this run cannot read the rows it "
            "held, so it cannot be reproduced"
        )
    if moment > now:
        raise QueryProblem(f"data snapshot {snapshot} is in the future")
    return query.replace(literal, f"TIMESTAMP '{snapshot}'")
