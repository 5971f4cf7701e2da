"""The checked-in TFDV schema: read with its lines, and held to the spec's features and label."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrain.cli.main import main
from retrain.data.samples import example_spec_files
from retrain.spec import load_spec, load_specs, spec_paths
from retrain.spec.tfschema import (
    Message,
    TextFormatError,
    parse_text_format,
    schema_path,
    schema_problems,
)
from tests.spec.test_validate import TOY_SCHEMA, VALID, write

REPO = Path(__file__).resolve().parents[2]


def messages(tmp_path: Path, schema: str | None) -> list[str]:
    path = write(tmp_path, VALID)
    if schema is None:
        schema_path(path).unlink()
    else:
        schema_path(path).write_text(schema)
    return [
        str(p).removeprefix(str(tmp_path) + "/") for p in schema_problems(load_spec(path), path)
    ]


def test_checked_in_schemas_agree_with_their_specs() -> None:
    paths = [*example_spec_files(REPO / "specs"), *spec_paths([REPO / "examples" / "specs"])]
    assert len(paths) == 5
    for spec, path in zip(load_specs(paths), paths, strict=True):
        assert schema_path(path).is_file(), path
        assert schema_problems(spec, path) == [], path


def test_toy_schema_agrees(tmp_path: Path) -> None:
    assert messages(tmp_path, TOY_SCHEMA) == []


def test_missing_schema_says_which_command_writes_it(tmp_path: Path) -> None:
    assert messages(tmp_path, None) == [
        f"toy.yaml:1: schema: no schema file {tmp_path}/toy.schema.pbtxt; write it with "
        f"`retrain schema infer {tmp_path}/toy.yaml`, review it and check it in"
    ]


def test_missing_extra_and_mistyped_columns_are_named(tmp_path: Path) -> None:
    schema = """\
# a comment
feature { name: "age" type: BYTES }
feature { name: "churned" type: FLOAT }
feature {
  name: "customer_id"
  type: INT
}
"""
    found = messages(tmp_path, schema)
    fix = f"re-run `retrain schema infer {tmp_path}/toy.yaml` or edit the schema"
    assert found == [
        f"toy.schema.pbtxt:2: feature age: the spec's numeric feature is BYTES in the schema; "
        f"{fix}",
        f"toy.schema.pbtxt:1: feature country: the spec's feature 'country' is not in the "
        f"schema; {fix}",
        f"toy.schema.pbtxt:3: feature churned: the binary_classification label is FLOAT in the "
        f"schema (expected INT); {fix}",
        f"toy.schema.pbtxt:4: feature customer_id: 'customer_id' is neither a feature nor the "
        f"label of spec toy; {fix}",
    ]


def test_integer_category_needs_is_categorical(tmp_path: Path) -> None:
    plain = TOY_SCHEMA.replace('name: "country" type: BYTES domain: "country"',
                               'name: "country" type: INT')  # fmt: skip
    assert "categorical feature is INT in the schema" in messages(tmp_path, plain)[0]
    marked = TOY_SCHEMA.replace(
        'name: "country" type: BYTES domain: "country"',
        'name: "country" type: INT int_domain { is_categorical: true }',
    )
    assert messages(tmp_path, marked) == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('feature { name: "a"', 1, "message opened here is not closed with '}'"),
        ('feature {\n  name: "a" type: INT }\n}', 3, "expected a field name, found '}'"),
        ("feature {\n name: @ }", 2, "unexpected character '@'"),
        ("name:", 1, "field 'name' has no value"),
        ("a: [1, 2", 1, "list of 'a' is not closed"),
        ("a " + "{ a " * 100, 1, "messages nested deeper than 64"),
    ],
)
def test_unreadable_schema_text_names_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(TextFormatError) as caught:
        parse_text_format(text)
    assert (caught.value.line, str(caught.value)) == (line, message)


def test_text_format_forms() -> None:
    root = parse_text_format("a: 1 b: 'x\\'y' \"z\"\nc < d: [1, 2] >\ne: [{f: F}, {f: G}]; g: -inf")
    assert root.scalar("a") == "1"
    assert root.scalar("b") == "x'yz"
    c = root.message("c")
    assert isinstance(c, Message) and [v for v, _ in c.values("d")] == ["1", "2"]
    assert [m.scalar("f") for m, _ in root.values("e") if isinstance(m, Message)] == ["F", "G"]
    assert root.scalar("g") == "-inf"


def test_unreadable_schema_is_a_problem_at_its_line(tmp_path: Path) -> None:
    assert messages(tmp_path, 'feature {\n  name: "age"\n  type: INT\n') == [
        "toy.schema.pbtxt:1: <root>: not TFDV's schema text format: message opened here is "
        "not closed with '}'"
    ]
    found = messages(tmp_path, TOY_SCHEMA + 'feature { name: "age" type: FLOAT }\n')
    assert found == ["toy.schema.pbtxt:5: feature age: declared twice"]
    assert messages(tmp_path, 'feature { name: "age" type: DOUBLE }') == [
        "toy.schema.pbtxt:1: feature age: type DOUBLE is not one of INT, FLOAT, BYTES, STRUCT"
    ]


def test_cli_validate_reports_schema_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, VALID)
    schema_path(path).write_text(TOY_SCHEMA.replace('"age"', '"agee"'))
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "toy.schema.pbtxt:1: feature age: the spec's feature 'age' is not in the schema" in err
    assert "toy.schema.pbtxt:1: feature agee: 'agee' is neither a feature" in err
    assert main(["validate", "--format", "github", str(path)]) == 1
    assert "::error file=" in capsys.readouterr().out
