"""Load YAML while remembering the line of every key, so errors can point at it.

Spec files come from pull requests, so the loader is built for hostile input: the text is
parsed once, its size and nesting depth are bounded, aliases and anchors are refused (an alias
bomb expands exponentially, and a spec has no need to repeat itself) and mapping keys must be
plain scalars (`? [a, b]` would otherwise reach the model as an unhashable key). Each refusal
names the line, before any value is built.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer

Path_ = tuple[str | int, ...]

MAX_SPEC_CHARS = 256 * 1024  # the largest example spec is under 2 KiB
MAX_DEPTH = 32  # a spec nests five levels deep


class YamlProblem(Exception):
    """A YAML document could not be parsed; carries the 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases, anchors, deep nesting, complex and duplicate keys."""

    _depth = 0

    # The scanner looks ahead over every open flow collection for each token, so `[[[[...`
    # costs time quadratic in its depth: cut it off at the bracket, before the look-ahead.
    def fetch_flow_sequence_start(self) -> None:
        self._check_flow_level()
        super().fetch_flow_sequence_start()

    def fetch_flow_mapping_start(self) -> None:
        self._check_flow_level()
        super().fetch_flow_mapping_start()

    def _check_flow_level(self) -> None:
        if self.flow_level >= MAX_DEPTH:
            raise YamlProblem(self.line + 1, f"nested deeper than {MAX_DEPTH} levels")

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem(line, f"alias *{event.anchor} is not allowed in a spec; write it out")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise YamlProblem(line, f"anchor &{anchor} is not allowed in a spec; write it out")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlProblem(line, f"nested deeper than {MAX_DEPTH} levels")
            return Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        node = Composer.compose_mapping_node(self, anchor)
        seen: set[str] = set()
        for key_node, _ in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem(line, "a key must be a plain name, not a list or mapping")
            if key_node.value in seen:
                raise YamlProblem(line, f"duplicate key {key_node.value!r}")
            seen.add(key_node.value)
        return node


def _index_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            lines[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _index_lines(item, child, lines)


def load_with_lines(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse one YAML document once; return its data and a map from key path to line number."""
    if len(text) > MAX_SPEC_CHARS:
        raise YamlProblem(
            1, f"spec is {len(text)} characters; the limit is {MAX_SPEC_CHARS} characters"
        )
    loader: _SpecLoader | None = None
    try:
        loader = _SpecLoader(text)  # its reader refuses control characters already
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"YAML syntax error: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"YAML error: {exc}") from exc
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[Path_, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return data, lines


def line_of(lines: dict[Path_, int], path: Path_) -> int:
    """The line of the deepest known ancestor of `path` (missing keys point at their parent)."""
    for end in range(len(path), -1, -1):
        found = lines.get(tuple(path[:end]))
        if found is not None:
            return found
    return 1
