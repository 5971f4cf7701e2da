"""A spec's checked-in TFDV schema (`<spec dir>/<name>.schema.pbtxt`) and its agreement with
the spec.

The service environment has no TensorFlow Metadata, so the schema's protobuf text format is
read here by a small reader that keeps line numbers: a problem points at the schema file's
line. Only what the check needs is interpreted (top-level `feature` entries: name, type,
int_domain.is_categorical, lifecycle_stage); everything else is read and kept, never judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from retrain.errors import Problem
from retrain.spec.model import Spec

SCHEMA_SUFFIX = ".schema.pbtxt"

# The physical types TFDV's Schema proto knows (schema.proto, FeatureType).
FEATURE_TYPES = ("INT", "FLOAT", "BYTES", "STRUCT")
# Lifecycle stages (schema.proto, LifecycleStage) of a feature known but not used: TFDV leaves
# such features out of validation.
UNUSED_STAGES = ("DEPRECATED", "DISABLED")


def schema_path(spec_path: Path) -> Path:
    """The schema file beside a spec: `specs/churn.yaml` -> `specs/churn.schema.pbtxt`."""
    return spec_path.with_name(spec_path.stem + SCHEMA_SUFFIX)


def infer_command(spec_path: Path) -> str:
    return f"retrain schema infer {spec_path}"


class TextFormatError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


@dataclass
class Message:
    """A parsed text-format message: fields in file order, each with its line."""

    line: int = 1
    fields: list[tuple[str, str | Message, int]] = field(default_factory=list)

    def values(self, name: str) -> list[tuple[str | Message, int]]:
        return [(value, line) for key, value, line in self.fields if key == name]

    def scalar(self, name: str) -> str | None:
        found = [v for v, _ in self.values(name) if isinstance(v, str)]
        return found[-1] if found else None

    def message(self, name: str) -> Message | None:
        found = [v for v, _ in self.values(name) if isinstance(v, Message)]
        return found[-1] if found else None


_TOKEN = re.compile(
    r"""(?P<space>[ \t\r]+)|(?P<newline>\n)|(?P<comment>\#[^\n]*)
    |(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<word>[-+]?[A-Za-z0-9_.]+)|(?P<punct>[{}<>:\[\],;])""",
    re.VERBOSE,
)
_CLOSE = {"{": "}", "<": ">"}
_MAX_DEPTH = 64


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, line) for every token; an unreadable character is an error at its line."""
    out: list[tuple[str, str, int]] = []
    line, at = 1, 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise TextFormatError(line, f"unexpected character {text[at]!r}")
        kind = match.lastgroup or ""
        if kind == "newline":
            line += 1
        elif kind == "string":
            out.append((kind, _unquote(match.group()), line))
        elif kind in ("word", "punct"):
            out.append((kind, match.group(), line))
        at = match.end()
    return out


_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.S)
_SIMPLE = {"n": b"\n", "t": b"\t", "r": b"\r", "a": b"\a", "b": b"\b", "f": b"\f", "v": b"\v"}


def _unquote(token: str) -> str:
    """A string literal's value, as protobuf's text format reads it: C escapes (`\\n`, octal
    `\\303`, hex `\\xc3`) are bytes, and the string is those bytes as UTF-8."""
    body = token[1:-1]
    out = bytearray()
    at = 0
    for match in _ESCAPE.finditer(body):
        out += body[at : match.start()].encode("utf-8", "surrogatepass")
        octal, hexa, char = match.groups()
        if octal is not None:
            out.append(int(octal, 8) & 0xFF)
        elif hexa is not None:
            out.append(int(hexa, 16))
        else:
            out += _SIMPLE.get(char, char.encode("utf-8", "surrogatepass"))
        at = match.end()
    out += body[at:].encode("utf-8", "surrogatepass")
    return out.decode("utf-8", "replace")


def parse_text_format(text: str) -> Message:
    """Read protobuf text format into a Message tree; TextFormatError names the line."""
    tokens = _tokens(text)
    message, _end = _message(tokens, 0, None, 1, 0)
    return message


def _message(
    tokens: list[tuple[str, str, int]], at: int, close: str | None, line: int, depth: int
) -> tuple[Message, int]:
    if depth > _MAX_DEPTH:
        raise TextFormatError(line, f"messages nested deeper than {_MAX_DEPTH}")
    message = Message(line=line)
    while at < len(tokens):
        kind, value, where = tokens[at]
        if close is not None and kind == "punct" and value == close:
            return message, at + 1
        if kind != "word" or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise TextFormatError(where, f"expected a field name, found {value!r}")
        at += 1
        colon = at < len(tokens) and tokens[at][1] == ":"
        at += 1 if colon else 0
        if at >= len(tokens):
            raise TextFormatError(where, f"field {value!r} has no value")
        nkind, ntext, nline = tokens[at]
        if nkind == "punct" and ntext in _CLOSE:
            child, at = _message(tokens, at + 1, _CLOSE[ntext], nline, depth + 1)
            message.fields.append((value, child, where))
        elif nkind == "punct" and ntext == "[" and colon:
            at = _list(tokens, at + 1, value, message, depth)
        elif nkind in ("word", "string") and colon:
            text_value = ntext
            at += 1
            while nkind == "string" and at < len(tokens) and tokens[at][0] == "string":
                text_value += tokens[at][1]  # adjacent strings concatenate
                at += 1
            message.fields.append((value, text_value, where))
        else:
            raise TextFormatError(nline, f"field {value!r}: unexpected {ntext!r}")
        if at < len(tokens) and tokens[at][1] in (",", ";"):
            at += 1
    if close is not None:
        raise TextFormatError(line, f"message opened here is not closed with {close!r}")
    return message, at


def _list(
    tokens: list[tuple[str, str, int]], at: int, name: str, message: Message, depth: int
) -> int:
    while at < len(tokens):
        kind, value, where = tokens[at]
        if kind == "punct" and value == "]":
            return at + 1
        if kind == "punct" and value in _CLOSE:
            child, at = _message(tokens, at + 1, _CLOSE[value], where, depth + 1)
            message.fields.append((name, child, where))
        elif kind in ("word", "string"):
            message.fields.append((name, value, where))
            at += 1
        else:
            raise TextFormatError(where, f"field {name!r}: unexpected {value!r} in a list")
        if at < len(tokens) and tokens[at][1] == ",":
            at += 1
    raise TextFormatError(tokens[-1][2] if tokens else 1, f"list of {name!r} is not closed")


@dataclass(frozen=True)
class SchemaFeature:
    name: str
    type: str
    categorical_int: bool
    line: int


def schema_features(
    text: str, file: str
) -> tuple[list[SchemaFeature], list[SchemaFeature], list[Problem]]:
    """The schema's top-level features in use, those marked unused (a column the data has and
    the spec does not read, as schema change PRs record it), and problems with the file."""
    try:
        root = parse_text_format(text)
    except TextFormatError as exc:
        return [], [], [Problem(file, exc.line, "", f"not TFDV's schema text format: {exc}")]
    features: list[SchemaFeature] = []
    unused: list[SchemaFeature] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for value, line in root.values("feature"):
        if not isinstance(value, Message):
            problems.append(Problem(file, line, "feature", "expected a feature { ... } block"))
            continue
        name = value.scalar("name")
        kind = value.scalar("type") or ""
        if not name:
            problems.append(Problem(file, line, "feature", "a feature without a name"))
            continue
        if value.scalar("lifecycle_stage") in UNUSED_STAGES or value.scalar("deprecated") == "true":
            unused.append(SchemaFeature(name, kind, False, line))
            continue
        if kind not in FEATURE_TYPES:
            problems.append(
                Problem(
                    file,
                    line,
                    f"feature {name}",
                    f"type {kind or '(none)'} is not one of {', '.join(FEATURE_TYPES)}",
                )
            )
            continue
        if name in seen:
            problems.append(Problem(file, line, f"feature {name}", "declared twice"))
            continue
        seen.add(name)
        domain = value.message("int_domain")
        categorical = domain is not None and domain.scalar("is_categorical") == "true"
        features.append(SchemaFeature(name, kind, categorical, line))
    return features, unused, problems


def _type_problem(spec: Spec, column: str, feature: SchemaFeature) -> str | None:
    """Why `feature`'s type does not fit what the spec says `column` is, or None."""
    declared = {f.name: f.type for f in spec.features}
    if column in declared:
        if declared[column] == "numeric":
            if feature.type in ("INT", "FLOAT") and not feature.categorical_int:
                return None
            return f"the spec's numeric feature is {_describe(feature)} in the schema"
        if feature.type == "BYTES" or (feature.type == "INT" and feature.categorical_int):
            return None
        return (
            f"the spec's categorical feature is {_describe(feature)} in the schema "
            "(expected BYTES, or INT with int_domain { is_categorical: true })"
        )
    allowed = {
        "regression": ("INT", "FLOAT"),
        "binary_classification": ("INT",),
        "multiclass_classification": ("INT", "BYTES"),
    }[spec.task]
    if feature.type in allowed:
        return None
    return (
        f"the {spec.task} label is {_describe(feature)} in the schema "
        f"(expected {' or '.join(allowed)})"
    )


def _describe(feature: SchemaFeature) -> str:
    return f"{feature.type} (categorical)" if feature.categorical_int else feature.type


def schema_problems(spec: Spec, spec_path: Path) -> list[Problem]:
    """Problems with the schema beside `spec_path`: missing, unreadable, or disagreeing with
    the spec's features and label (a column missing, extra or typed otherwise)."""
    path = schema_path(spec_path)
    file = str(path)
    fix = f"re-run `{infer_command(spec_path)}` or edit the schema"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [
            Problem(
                str(spec_path),
                1,
                "schema",
                f"no schema file {file}; write it with "
                f"`{infer_command(spec_path)}`, review it and check it in",
            )
        ]
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(file, 1, "", f"cannot read: {exc}")]
    features, unused, problems = schema_features(text, file)
    if problems:
        return problems
    unused_names = {f.name: f for f in unused}
    by_name = {f.name: f for f in features}
    columns = [f.name for f in spec.features] + [spec.label]
    for column in columns:
        found = by_name.get(column)
        if found is None and column in unused_names:
            problems.append(
                Problem(
                    file,
                    unused_names[column].line,
                    f"feature {column}",
                    f"the spec reads "
                    f"{column!r}, but the schema marks it unused (lifecycle_stage); {fix}",
                )
            )
            continue
        if found is None:
            what = "label" if column == spec.label else "feature"
            problems.append(
                Problem(
                    file,
                    1,
                    f"feature {column}",
                    f"the spec's {what} {column!r} is not in the schema; {fix}",
                )
            )
            continue
        wrong = _type_problem(spec, column, found)
        if wrong:
            problems.append(Problem(file, found.line, f"feature {column}", f"{wrong}; {fix}"))
    for extra in (f for f in features if f.name not in columns):
        problems.append(
            Problem(
                file,
                extra.line,
                f"feature {extra.name}",
                f"{extra.name!r} is neither a feature nor the label of spec {spec.name}; {fix}",
            )
        )
    return problems
