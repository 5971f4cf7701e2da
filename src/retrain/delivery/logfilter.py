"""An evaluator for the subset of the Cloud Logging query language our sink filters use.

The sinks' filters are written once, in `retrain.events.filters`; this module lets tests and
`retrain infra match` check them against real-shaped log entries, offline, so a sink and the
decoder behind it cannot silently disagree.

Supported (and anything else is a ConfigError, never a silent mismatch):

    filter     := conjunct (["AND"] conjunct)*        AND, or plain juxtaposition
    conjunct   := term ("OR" term)*                   OR binds tighter than AND (as in Logging)
    term       := "NOT" term | "-" term | "(" filter ")" | comparison
    comparison := FIELD ("=" | "!=" | ":") (VALUE | "(" VALUE ("OR" VALUE)* ")")
    VALUE      := "quoted string" | bare-word | "*"   (`FIELD:*` tests presence)

`=` compares the field's text exactly, `:` is a case-insensitive substring ("has") test and
`!=` is the negation of `=`. A missing field matches nothing but `!=`, which it satisfies only
when the field exists. Fields are dotted JSON paths (`protoPayload.metadata.tableDataChange`);
a list matches when any of its elements does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from retrain.errors import ConfigError

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>!=|=|:)
      | (?P<paren>[()])
      | (?P<minus>-)(?=[A-Za-z(])
      | (?P<word>[A-Za-z0-9_.@*/%\-\[\]]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # string, op, paren, word
    text: str


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ConfigError(f"log filter: cannot read {text[pos : pos + 20]!r} at {pos}")
        kind = match.lastgroup or ""
        out.append(_Token(kind, match.group(kind)))
        pos = match.end()
    return out


def _unquote(token: _Token) -> str:
    if token.kind == "string":
        return re.sub(r"\\(.)", r"\1", token.text[1:-1])
    return token.text


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    values: tuple[str, ...]  # alternatives: field op v1 OR field op v2 ...


@dataclass(frozen=True)
class Not:
    inner: Node


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


Node = Comparison | Not | And | Or


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise ConfigError(f"log filter ends too early: {self.text!r}")
        self.pos += 1
        return token

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text == word

    def parse(self) -> Node:
        node = self.filter()
        if self.peek() is not None:
            raise ConfigError(f"log filter: unexpected {self.take().text!r} in {self.text!r}")
        return node

    def filter(self) -> Node:
        parts = [self.conjunct()]
        while True:
            token = self.peek()
            if token is None or (token.kind == "paren" and token.text == ")"):
                break
            if self.is_word("AND"):
                self.take()
            parts.append(self.conjunct())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def conjunct(self) -> Node:
        parts = [self.term()]
        while self.is_word("OR"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def term(self) -> Node:
        token = self.take()
        if token.kind == "minus" or (token.kind == "word" and token.text == "NOT"):
            return Not(self.term())
        if token.kind == "paren" and token.text == "(":
            inner = self.filter()
            self.expect(")")
            return inner
        if token.kind != "word" or token.text in ("AND", "OR"):
            raise ConfigError(f"log filter: expected a field, got {token.text!r} in {self.text!r}")
        op = self.take()
        if op.kind != "op":
            raise ConfigError(f"log filter: expected =, != or : after {token.text!r}")
        return Comparison(token.text, op.text, self.values())

    def values(self) -> tuple[str, ...]:
        token = self.take()
        if not (token.kind == "paren" and token.text == "("):
            if token.kind not in ("string", "word"):
                raise ConfigError(f"log filter: expected a value, got {token.text!r}")
            return (_unquote(token),)
        values = [_unquote(self.take())]
        while self.is_word("OR"):
            self.take()
            values.append(_unquote(self.take()))
        self.expect(")")
        return tuple(values)

    def expect(self, paren: str) -> None:
        token = self.take()
        if token.kind != "paren" or token.text != paren:
            raise ConfigError(f"log filter: expected {paren!r}, got {token.text!r}")


def parse(text: str) -> Node:
    """Parse a filter; ConfigError when it uses syntax outside the supported subset."""
    return _Parser(text).parse()


_MISSING = object()


def _field(entry: Any, path: str) -> Any:
    value = entry
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compare(value: Any, op: str, wanted: str) -> bool:
    if isinstance(value, list):
        return any(_compare(item, op, wanted) for item in value)
    if op == ":":
        if wanted == "*":
            return True
        if isinstance(value, Mapping):
            return False
        return wanted.lower() in _text(value).lower()
    if isinstance(value, Mapping):
        return False
    return _text(value) == wanted


def _evaluate(node: Node, entry: Mapping[str, Any]) -> bool:
    if isinstance(node, And):
        return all(_evaluate(p, entry) for p in node.parts)
    if isinstance(node, Or):
        return any(_evaluate(p, entry) for p in node.parts)
    if isinstance(node, Not):
        return not _evaluate(node.inner, entry)
    value = _field(entry, node.field)
    if value is _MISSING or value is None:
        return False
    if node.op == "!=":
        return not any(_compare(value, "=", v) for v in node.values)
    return any(_compare(value, node.op, v) for v in node.values)


def matches(filter_text: str, entry: Mapping[str, Any]) -> bool:
    """Would a sink with this filter forward this log entry?"""
    return _evaluate(parse(filter_text), entry)
