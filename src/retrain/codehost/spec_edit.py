"""Set `promotion.version` in a spec's YAML text, keeping its comments and layout.

A YAML round trip would drop comments and reorder keys in a file people own and review;
this edits the one line (or adds it) and checks the result parses to the same spec plus
the new version.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from retrain.errors import Problem, SpecError

_TOP_KEY = re.compile(r"^promotion\s*:(?P<rest>.*)$")
_VERSION = re.compile(r"^(?P<indent>[ \t]+)version\s*:")
_CHILD = re.compile(r"^(?P<indent>[ \t]+)[^\s#]")


def _problem(source: str, line: int, message: str) -> SpecError:
    return SpecError([Problem(source, line, "promotion", message)])


def set_promotion_version(text: str, version: str, source: str = "spec") -> str:
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _TOP_KEY.match(line)), None)
    if start is None:
        raise _problem(source, 1, "the spec has no promotion section")
    head = _TOP_KEY.match(lines[start])
    if head is not None and head["rest"].split("#")[0].strip():
        raise _problem(source, start + 1, "use a block-style promotion section to record a version")
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    newline = "\r\n" if lines[start].endswith("\r\n") else "\n"
    entry = f"version: {json.dumps(version)}"  # a double-quoted YAML scalar, always a string
    block = range(start + 1, end)
    at = next((i for i in block if _VERSION.match(lines[i])), None)
    if at is not None:
        match = _VERSION.match(lines[at])
        indent = match["indent"] if match else "  "
        lines[at] = f"{indent}{entry}{newline}"
    else:
        child = next((m for i in block if (m := _CHILD.match(lines[i]))), None)
        if not lines[end - 1].endswith("\n"):
            lines[end - 1] += newline
        lines.insert(end, f"{child['indent'] if child else '  '}{entry}{newline}")
    edited = "".join(lines)
    _check(text, edited, version, source)
    return edited


def _check(before: str, after: str, version: str, source: str) -> None:
    old: Any = yaml.safe_load(before)
    new: Any = yaml.safe_load(after)
    if not isinstance(old, dict) or not isinstance(old.get("promotion"), dict):
        raise _problem(source, 1, "the spec has no promotion mapping")
    expected = {**old, "promotion": {**old["promotion"], "version": version}}
    if new != expected:
        raise _problem(source, 1, "could not record the version without changing other fields")
