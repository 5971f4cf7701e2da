"""Read spec files and report every problem as `FILE:LINE: field.path: message`."""

from __future__ import annotations

import difflib
import importlib.util
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from retrain.errors import Problem, SpecError
from retrain.spec import hyperparams
from retrain.spec.model import (
    CPU_PATTERN,
    DURATION_PATTERN,
    IDENTIFIER_PATTERN,
    MEMORY_PATTERN,
    MODULE_PATTERN,
    REGISTRY_MODEL_PATTERN,
    SPEC_NAME_PATTERN,
    TABLE_PATTERN,
    FieldProblem,
    Spec,
)
from retrain.spec.yaml_lines import YamlProblem, line_of, load_with_lines

SPEC_SUFFIXES = (".yaml", ".yml")
_Lines = dict[tuple[str | int, ...], int]


def spec_files(directory: str | Path) -> list[Path]:
    """The spec files in `directory` (`*.yaml` and `*.yml`, sorted); schema.json and others
    are not specs. Every place that lists specs uses this, so both suffixes count everywhere."""
    return sorted(p for p in Path(directory).iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())


def spec_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Expand directories to the spec files inside them; files are kept as given."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        found.extend(spec_files(path) if path.is_dir() else [path])
    return found


def _allowed_keys(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The field names valid at `loc`, to suggest a fix for a misspelt key."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or not (
            isinstance(current, type) and issubclass(current, BaseModel)
        ):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


# What each pattern of the spec model asks for, in words (the regex itself helps nobody).
_PATTERNS = {
    SPEC_NAME_PATTERN: "at most 40 lowercase letters, digits and hyphens, starting with a letter",
    IDENTIFIER_PATTERN: "a column name: letters, digits and _, not starting with a digit",
    TABLE_PATTERN: "a BigQuery table as project.dataset.table, e.g. my-project.sales.orders",
    DURATION_PATTERN: "a duration such as 30m, 6h or 1d",
    MODULE_PATTERN: "a Python module path such as pipelines.trainers.tabular",
    CPU_PATTERN: "a CPU count such as 4 or 500m",
    MEMORY_PATTERN: "a memory size such as 16G or 512M",
    REGISTRY_MODEL_PATTERN: (
        "at most 63 lowercase letters, digits, _ and -, starting with a letter or _"
    ),
}


def _plain_pattern(pattern: str, value: Any) -> str:
    wanted = _PATTERNS.get(pattern, f"a value matching {pattern}")
    return (
        f"{str(value)[:80]!r} is not {wanted}"
        if wanted.startswith("a ")
        else (f"{str(value)[:80]!r} must be {wanted}")
    )


def _unquoted_classes(data: dict[str, Any], file: str, lines: _Lines) -> Problem:
    """`classes: [0, 1, 2]`: one line saying to quote them, not one per class."""
    values = data.get("classes") or []
    quoted = ", ".join(
        json.dumps(str(v).lower() if isinstance(v, bool) else str(v)) for v in values
    )
    return Problem(
        file,
        line_of(lines, ("classes",)),
        "classes",
        f"class names are text: quote them, classes: [{quoted}]",
    )


def _problems_from(
    error: ValidationError, file: str, lines: _Lines, data: dict[str, Any]
) -> list[Problem]:
    problems = []
    items = error.errors()
    unquoted = [
        i for i in items if i["type"] == "string_type" and tuple(i["loc"])[:1] == ("classes",)
    ]
    if unquoted:
        problems.append(_unquoted_classes(data, file, lines))
    for item in items:
        if item in unquoted:
            continue
        loc = tuple(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        original = (item.get("ctx") or {}).get("error")
        if isinstance(original, FieldProblem):
            loc = (*loc, *original.path)
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(Spec, loc)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            message = "unknown field" + (f"; did you mean {close[0]!r}?" if close else "")
            if allowed:
                message += f" (allowed: {', '.join(allowed)})"
        elif item["type"] == "missing":
            message = "required field is missing"
        elif item["type"] == "string_pattern_mismatch":
            message = _plain_pattern(item["ctx"]["pattern"], item["input"])
        field = ".".join(str(part) for part in loc)
        problems.append(Problem(file, line_of(lines, loc), field, message))
    return problems


def parse_spec(text: str, file: str) -> Spec:
    """Validate one spec document; raise SpecError with every problem found."""
    return _parse(text, file)[0]


def _parse(text: str, file: str) -> tuple[Spec, _Lines]:
    """The spec and the line of every key, from one pass over the YAML."""
    try:
        data, lines = load_with_lines(text)
    except YamlProblem as exc:
        raise SpecError([Problem(file, exc.line, "", str(exc))]) from exc
    if data is None:
        raise SpecError([Problem(file, 1, "", "file is empty; a spec needs name, task, data, ...")])
    if not isinstance(data, dict):
        raise SpecError(
            [Problem(file, 1, "", f"expected a mapping of fields, got {type(data).__name__}")]
        )
    try:
        return Spec.model_validate(data), lines
    except ValidationError as exc:
        raise SpecError(_problems_from(exc, file, lines, data)) from exc


def load_spec(path: str | Path) -> Spec:
    """Load and validate one spec file, including the checks that need its path."""
    return load_specs([path])[0]


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _query_problem(spec: Spec) -> str | None:
    """Check the training query where sqlglot is installed (the service env, where CI runs)."""
    if spec.data.query is None or importlib.util.find_spec("sqlglot") is None:
        return None
    from retrain.spec.sql import QueryProblem, checked_query

    try:
        checked_query(spec.data.query, spec.data.table)
    except QueryProblem as exc:
        return str(exc)
    return None


def _name_problem(spec: Spec, path: Path, lines: _Lines) -> Problem | None:
    """Job ids, templates and promotion PRs find a spec's file by its name."""
    if spec.name == path.stem:
        return None
    return Problem(
        str(path),
        line_of(lines, ("name",)),
        "name",
        f"name {spec.name!r} must match the file name {path.stem!r}",
    )


def _code_checks(spec: Spec, path: Path, lines: _Lines) -> list[Problem]:
    problems = []
    file = str(path)
    query_problem = _query_problem(spec)
    if query_problem:
        problems.append(
            Problem(file, line_of(lines, ("data", "query")), "data.query", query_problem)
        )
    if not _module_exists(spec.trainer.module):
        problems.append(
            Problem(
                file,
                line_of(lines, ("trainer", "module")),
                "trainer.module",
                f"trainer module {spec.trainer.module!r} cannot be found",
            )
        )
    problems += _hyperparameter_problems(spec, file, lines)
    return problems


def _hyperparameter_problems(
    spec: Spec, file: str, lines: dict[tuple[str | int, ...], int]
) -> list[Problem]:
    try:
        declared = hyperparams.declared_for(spec.trainer.module)
    except hyperparams.DeclarationError as exc:
        line = line_of(lines, ("trainer", "module"))
        return [Problem(file, line, "trainer.module", str(exc))]
    if declared is None:
        return []
    given = spec.trainer.hyperparameters
    return [
        Problem(
            file,
            line_of(lines, ("trainer", "hyperparameters", name)),
            f"trainer.hyperparameters.{name}",
            message,
        )
        for name, message in hyperparams.problems(spec.trainer.module, given, declared)
    ]


def load_specs(paths: Iterable[str | Path], check_code: bool = True) -> list[Spec]:
    """Load every spec; raise one SpecError listing all problems in all files.

    `check_code` also checks what needs the repository's code: the trainer module can be
    found and the query is BigQuery SQL. The Cloud Functions turn it off: they do not ship
    the pipeline package, and CI has checked the specs before they were deployed.
    """
    parsed: list[tuple[Spec, str, _Lines]] = []
    problems: list[Problem] = []
    for path in (Path(p) for p in paths):
        file = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(file, 1, "", f"cannot read: {exc}"))
            continue
        try:
            spec, lines = _parse(text, file)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        name_problem = _name_problem(spec, path, lines)
        if name_problem:
            problems.append(name_problem)
        if check_code:
            problems.extend(_code_checks(spec, path, lines))
        parsed.append((spec, file, lines))
    problems.extend(clash_problems(parsed))
    if problems:
        raise SpecError(problems)
    return [spec for spec, _, _ in parsed]


def clash_problems(parsed: Iterable[tuple[Spec, str, _Lines]]) -> list[Problem]:
    """Specs that would fight over one name or one registry model (whose alias one promotion
    moves, and which one drift alert would retrain twice). One problem per file: a second
    copy of a spec is reported by its name alone."""
    problems: list[Problem] = []
    owners: dict[tuple[str, str], str] = {}
    for spec, file, lines in parsed:
        for field, what, value in (
            ("name", "name", spec.name),
            ("promotion.registry_model", "registry model", spec.promotion.registry_model),
        ):
            first = owners.setdefault((field, value), file)
            if first != file:
                problems.append(
                    Problem(
                        file,
                        line_of(lines, tuple(field.split("."))),
                        field,
                        f"{what} {value!r} is already used by {first}",
                    )
                )
                break
    return problems
