"""The local stand-in for BigQuery: the spec's training query, run by DuckDB over its CSV.

A local run should train on what a cloud run would select, so the spec's BigQuery SQL is
translated with sqlglot and executed against the local file, which plays the watched table.
The result is what the local pipeline's ExampleGen reads. The query is untrusted: it must pass
`retrain.spec.sql` (one SELECT over the watched table), and DuckDB runs it on a read-only
database with file and network access disabled, so even a query the check missed can neither
read another file nor write one. The CSV must lie inside the repository.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from retrain.data.check import (
    CsvFacts,
    DataProblem,
    TableProfile,
    absent_column,
    file_problems,
    kept_rows_filter,
    problems,
)
from retrain.errors import PipelineError
from retrain.runs import SNAPSHOT_PATTERN, snapshot_time
from retrain.spec.model import Spec
from retrain.spec.sql import SNAPSHOT_TOKEN, QueryProblem, duckdb_query, windowed_query
from retrain.spec.yaml_lines import YamlProblem, load_with_lines

SOURCE_VIEW = "retrain_source"
# DuckDB settings for the untrusted query: no file system or network, and (`_locked`) no way
# to turn it back.
LOCKED: dict[str, str | bool | int | float | list[str]] = {"enable_external_access": False}


def _locked(database: str) -> Any:
    """A read-only connection for the untrusted query. Times without a zone are UTC, as in
    BigQuery (data.window compares them), whatever the machine's zone; then the configuration
    is locked. (DuckDB refuses TimeZone in the connect config when external access is off.)"""
    import duckdb

    db = duckdb.connect(database, read_only=True, config=LOCKED)
    db.execute("SET TimeZone = 'UTC'")
    db.execute("SET lock_configuration = true")
    return db


def _check_snapshot(spec: Spec, snapshot: str) -> None:
    if not re.fullmatch(SNAPSHOT_PATTERN, snapshot) or not snapshot:
        raise PipelineError(
            f"{spec.name}: data snapshot {snapshot[:40]!r} is not YYYY-MM-DDTHH:MM:SSZ"
        )


def local_query(spec: Spec, snapshot: str) -> str:
    """The spec's training query in DuckDB's dialect, reading the table of the local file,
    with data.window (if any) ending at `snapshot` (YYYY-MM-DDTHH:MM:SSZ, checked here: it
    enters the SQL)."""
    _check_snapshot(spec, snapshot)
    try:
        query = duckdb_query(windowed_query(spec), spec.data.table, SOURCE_VIEW)
    except QueryProblem as exc:
        raise PipelineError(f"{spec.name}: data.query {exc}") from exc
    return query.replace(f"'{SNAPSHOT_TOKEN}'", f"TIMESTAMPTZ '{snapshot}'")


def local_source(spec: Spec, repo_root: Path, must_exist: bool = True) -> Path:
    """The spec's CSV, refused when it resolves (through `..` or a link) outside the repository."""
    root = repo_root.resolve()
    source = (root / spec.data.local.path).resolve()
    if not source.is_relative_to(root):
        raise PipelineError(
            f"{spec.name}: data.local.path {spec.data.local.path!r} is outside the repository"
        )
    if must_exist and not source.is_file():
        raise PipelineError(f"{spec.name}: local data {source} does not exist")
    return source


def csv_facts(source: Path, shown: str) -> CsvFacts:
    """The file's size, header and whether a row follows, read with Python's csv module (no
    SQL): what `retrain.data.check.file_problems` judges."""
    if not source.is_file():
        return CsvFacts(shown, exists=False)
    size = source.stat().st_size
    try:
        with source.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.reader(handle)
            header = [c.strip() for c in next(reader, [])]
            has_rows = any(any(c.strip() for c in row) for row in reader)
    except csv.Error:
        header, has_rows = [], False
    return CsvFacts(shown, exists=True, size=size, header=header, has_rows=has_rows)


def file_check(
    spec: Spec, repo_root: Path, spec_file: Path | None = None
) -> tuple[Path, CsvFacts, list[str]]:
    """The local file, its facts, and its problems as lines (naming the spec file)."""
    source = local_source(spec, repo_root, must_exist=False)
    facts = csv_facts(source, spec.data.local.path)
    return source, facts, render(file_problems(spec, facts), spec_file)


def render(found: list[DataProblem], spec_file: Path | None) -> list[str]:
    """Problems as `FILE:LINE: key: message` when the spec file is known (and readable),
    else as `spec NAME: message`."""
    if spec_file is None or not found:
        return [str(p) for p in found]
    try:
        _, lines = load_with_lines(spec_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YamlProblem):
        lines = {}
    return [p.located(str(spec_file), lines) for p in found]


_MISSING_COLUMN = re.compile(
    r'(?:Referenced column|column with name) "?([^"\s]+)"? (?:not found|does not exist)'
)


def _plain_query_error(spec: Spec, exc: Exception, facts: CsvFacts) -> DataProblem:
    """A DuckDB error of the spec's query, in the spec's words: the column it names that the
    file lacks, or the first line of what went wrong without the engine's error class."""
    text = str(exc)
    missing = _MISSING_COLUMN.search(text)
    if missing:
        return absent_column(spec, missing.group(1), facts, "data.query")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    first = re.sub(r"^[A-Za-z ]+ Error: ", "", first)
    return DataProblem(
        spec.name, "", f"data.query could not run over {facts.path}: {first}", ("data", "query")
    )


def _cell(value: Any) -> Any:
    """As DuckDB's CSV writer spells it: booleans lowercase, NULL empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


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
    all_text: set[str] = set()
    for name in numeric:
        if columns[name] == "number":
            continue
        bad = db.execute(
            f"SELECT DISTINCT CAST({name} AS VARCHAR) FROM retrain_selected "
            f"WHERE {name} IS NOT NULL AND TRY_CAST({name} AS DOUBLE) IS NULL LIMIT 4"
        ).fetchall()
        if bad:
            text_in_numeric[name] = sorted(str(row[0]) for row in bad)
            (numbers,) = db.execute(
                f"SELECT count(*) FROM retrain_selected WHERE TRY_CAST({name} AS DOUBLE) "
                "IS NOT NULL"
            ).fetchone()
            if not numbers:
                all_text.add(name)
    reasons = kept_rows_filter(spec)
    cases = " ".join(f"WHEN {cond} THEN {i}" for i, (_, cond) in enumerate(reasons))
    counts = db.execute(
        f"SELECT CASE {cases} ELSE -1 END AS why, count(*) FROM retrain_selected GROUP BY why"
    ).fetchall()
    by_reason = {int(why): int(n) for why, n in counts}
    keep = " AND ".join(f"NOT ({cond})" for _, cond in reasons)
    labels = []
    if spec.task != "regression" or spec.label in all_text:
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
        all_text=frozenset(all_text),
    )


def check(
    spec: Spec,
    repo_root: Path,
    out: Path | None = None,
    snapshot: str | None = None,
    spec_file: Path | None = None,
) -> TableProfile:
    """Profile the local table through the training query as of `snapshot` (default: now;
    it ends data.window); raise on any data problem. The file is judged first, without SQL;
    `spec_file` (when known) puts its path and the line at fault in each message.

    With `out`, also write the rows to train on (label present, drop_row features present)
    as CSV, and the data facts beside it for the run's summary.
    """
    import duckdb

    source, facts, found_in_file = file_check(spec, repo_root, spec_file)
    if found_in_file:  # before any SQL: the file itself, and the columns the spec names
        raise PipelineError("\n".join(found_in_file))
    query = local_query(spec, snapshot or snapshot_time(datetime.now(timezone.utc)))
    with tempfile.TemporaryDirectory(prefix="retrain-local-") as scratch:
        database = str(Path(scratch) / "source.duckdb")
        with duckdb.connect(database) as db:
            # Trusted step: load the file. DDL takes no prepared parameters: quote the path.
            literal = "'" + str(source).replace("'", "''") + "'"
            try:
                db.execute(
                    f"CREATE TABLE {SOURCE_VIEW} AS "
                    f"SELECT * FROM read_csv_auto({literal}, header = true)"
                )
            except duckdb.Error as exc:
                first = re.sub(r"^[A-Za-z ]+ Error: ", "", str(exc).strip().splitlines()[0])
                problem = DataProblem(
                    spec.name,
                    "",
                    f"{facts.path} cannot be read as CSV: {first}",
                    ("data", "local", "path"),
                )
                raise PipelineError(render([problem], spec_file)[0]) from exc
        # The untrusted query, and our profiling over it, see only that table (temp views work
        # on a read-only database); the rows leave through Python, since DuckDB may not write.
        with _locked(database) as db:
            try:
                profile = _profile(db, spec, query)
            except duckdb.Error as exc:
                problem = _plain_query_error(spec, exc, facts)
                raise PipelineError(render([problem], spec_file)[0]) from exc
            found = problems(spec, profile)
            if found:
                raise PipelineError("\n".join(render(found, spec_file)))
            if out is not None:
                keep = " AND ".join(f"NOT ({cond})" for _, cond in kept_rows_filter(spec))
                kept = db.sql(f"SELECT * FROM retrain_selected WHERE {keep}")
                _write_csv(out, [str(c) for c in kept.columns], kept.fetchall())
                counts = {"rows_read": profile.rows_read, "rows_dropped": profile.dropped}
                facts_path(out).write_text(json.dumps(counts, sort_keys=True) + "\n")
    return profile


def _write_csv(out: Path, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([_cell(v) for v in row] for row in rows)


def materialize(
    spec: Spec,
    repo_root: Path,
    out: Path,
    snapshot: str | None = None,
    spec_file: Path | None = None,
) -> int:
    """Run the training query over the local CSV and write the rows to train on to `out`.

    Returns the number of rows written. Data problems (a missing column, text in a numeric
    column, too few rows, a one-class label, ...) raise before any TFX step starts.
    """
    return check(spec, repo_root, out, snapshot, spec_file).rows


def snapshot_input(
    spec: Spec, repo_root: Path, spec_root: Path, snapshot: str, spec_file: Path | None = None
) -> Path:
    """The rows a local run with data snapshot `snapshot` reads, selected once.

    A CSV has no history, so the snapshot is what the training query selected on the
    snapshot's first run, kept under `<spec_root>/snapshots/<time>/` with its row count and
    sha256 in the facts beside it: a rerun of that snapshot reads the same rows from the same
    file (so TFX's cache knows them), a new snapshot selects afresh."""
    _check_snapshot(spec, snapshot)
    folder = spec_root / "snapshots" / snapshot.replace(":", "")
    out = folder / f"{spec.name}.csv"
    if out.exists() and facts_path(out).exists():
        return out
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder.parent))
    partial = scratch / out.name
    rows = materialize(spec, repo_root, partial, snapshot, spec_file)
    facts = json.loads(facts_path(partial).read_text())
    data = partial.read_bytes()
    facts.update(rows_snapshot=rows, sha256=hashlib.sha256(data).hexdigest())
    facts_path(partial).write_text(json.dumps(facts, sort_keys=True) + "\n")
    try:
        scratch.rename(folder)  # atomic: a concurrent first run of the same snapshot keeps its own
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)
    return out
