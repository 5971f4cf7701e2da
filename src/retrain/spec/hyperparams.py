"""Hyperparameters a trainer module declares, checked against a spec without importing it.

A trainer module (which imports TensorFlow, absent from the service environment) declares
`HYPERPARAMETERS = {...}` as a literal dict: name -> {"type": float|int|bool|str, "min",
"max", "choices", "default"}. `retrain validate` reads that literal from the module's source
with `ast`, so an unknown name or a wrong type fails in review rather than in the Trainer
after the data steps ran. A module that declares nothing is not checked.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
from pathlib import Path
from typing import Any

DECLARATION = "HYPERPARAMETERS"
Value = float | int | str | bool
_TYPES: dict[str, tuple[type, ...]] = {
    "float": (float, int),
    "int": (int,),
    "bool": (bool,),
    "str": (str,),
}


class DeclarationError(ValueError):
    """The module's declaration cannot be read; validate reports it on trainer.module."""


def parse_declaration(source: str, origin: str) -> dict[str, dict[str, Any]] | None:
    """The module's HYPERPARAMETERS literal, or None when it declares none."""
    try:
        tree = ast.parse(source, filename=origin)
    except SyntaxError as exc:
        raise DeclarationError(f"{origin}: cannot parse: {exc.msg} (line {exc.lineno})") from exc
    for node in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        if not (isinstance(target, ast.Name) and target.id == DECLARATION and value):
            continue
        try:
            declared = ast.literal_eval(value)
        except ValueError as exc:
            raise DeclarationError(
                f"{origin}:{node.lineno}: {DECLARATION} must be a literal"
            ) from exc
        if not isinstance(declared, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) and v.get("type") in _TYPES
            for k, v in declared.items()
        ):
            raise DeclarationError(
                f"{origin}:{node.lineno}: {DECLARATION} must map names to "
                f"{{'type': one of {', '.join(_TYPES)}, ...}}"
            )
        return declared
    return None


def declared_for(module: str) -> dict[str, dict[str, Any]] | None:
    """The declaration of an importable module, found without importing it."""
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if found is None or not found.origin or not found.origin.endswith(".py"):
        return None
    return parse_declaration(Path(found.origin).read_text(encoding="utf-8"), found.origin)


def value_problem(name: str, value: Value, rule: dict[str, Any]) -> str | None:
    """Why `value` does not fit its declared rule, or None."""
    kind = rule["type"]
    if (isinstance(value, bool) and kind != "bool") or not isinstance(value, _TYPES[kind]):
        return f"{name} must be {kind}, got {value!r}"
    low, high = rule.get("min"), rule.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        return f"{name} {value!r} is outside [{low}, {high}]"
    choices = rule.get("choices")
    if choices is not None and value not in choices:
        return f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}"
    return None


def problems(
    module: str, given: dict[str, Value], declared: dict[str, dict[str, Any]]
) -> list[tuple[str, str]]:
    """(hyperparameter name, message) for each unknown name or bad value."""
    found = []
    for name, value in given.items():
        rule = declared.get(name)
        if rule is None:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            found.append(
                (
                    name,
                    f"{module} has no hyperparameter {name!r}; {hint}"
                    f"(known: {', '.join(sorted(declared))})",
                )
            )
            continue
        problem = value_problem(name, value, rule)
        if problem:
            found.append((name, problem))
    return found
