"""The schema update a schema change PR proposes: the checked-in TFDV schema text, edited.

Only legitimate changes are proposed (`retrain.anomalies.SCHEMA_CHANGES`):
- a new category: its values join the feature's string domain. They come from the run's
  statistics (`Finding.values`: the values TFDV's string-domain check compared, recorded by the
  pipeline's summary); only an older summary without them falls back to the anomaly's
  description ("Examples contain values missing from the schema: a (~12%), b (<1%)."), whose
  values are C-escaped, joined across splits and cut at `, ` and `(~N%)`;
- a new column: recorded as a feature the spec knows but does not use
  (`lifecycle_stage: DEPRECATED`, which TFDV leaves out of validation), so it stops being
  reported. To train on it, add it to the spec's features and re-run `retrain schema infer`.

The edit works on the text `retrain schema infer` writes (protobuf's text format, a top-level
`string_domain` block per domain); what it cannot place is returned as a note for the PR body,
never guessed. Values come from data: each is escaped once for the text format (`_quoted`:
quotes and backslashes escaped, anything not printable as octal UTF-8 bytes), so every value
stays on its own line and reads back as itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrain.anomalies import Finding
from retrain.spec.tfschema import Message, TextFormatError, parse_text_format

_LISTED = re.compile(r"values missing from the schema: (.*)", re.S)
_VALUE = re.compile(r"\s*(.+?) \((?:~\d+|<1)%\)(?:,|\.?\s*$)", re.S)
MAX_VALUES = 200


@dataclass(frozen=True)
class SchemaEdit:
    text: str
    applied: tuple[str, ...]  # one line per change made
    notes: tuple[str, ...]  # what could not be applied, for a reviewer


def new_values(description: str) -> list[str]:
    """The values TFDV lists as missing from the schema in an anomaly's description."""
    found: list[str] = []
    for match in _LISTED.finditer(description):
        rest = match.group(1).strip()
        for value in _VALUE.finditer(rest):
            if value.group(1) not in found:
                found.append(value.group(1))
    return found[:MAX_VALUES]


def _quoted(value: str) -> str:
    """A text-format string literal of `value`, escaped once: quotes and backslashes escaped,
    and every character that is not printable (controls, U+2028 and other line or paragraph
    separators, lone surrogates) as octal escapes of its UTF-8 bytes, which protobuf's
    text-format parser (and `retrain.spec.tfschema`) read back as the same string. So the
    literal is always one line of the file."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            data = char.encode("utf-8", "surrogatepass")
            out.append("".join(f"\\{byte:03o}" for byte in data))
    return '"' + "".join(out) + '"'


def _features(root: Message) -> dict[str, Message]:
    return {m.scalar("name") or "": m for m, _ in root.values("feature") if isinstance(m, Message)}


def _add_values(lines: list[str], domain: str, values: list[str]) -> list[str] | None:
    """Insert `value:` lines into the top-level string_domain named `domain`; the values added
    (None: no such block)."""
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if line.strip() == "string_domain {"
            and i + 1 < len(lines)
            and lines[i + 1].strip() == f"name: {_quoted(domain)}"
        ),
        None,
    )
    end = (
        None
        if start is None
        else next((i for i in range(start + 1, len(lines)) if lines[i] == "}"), None)
    )
    if start is None or end is None:
        return None
    present = {line.strip() for line in lines[start:end]}
    added = [v for v in values if f"value: {_quoted(v)}" not in present]
    lines[end:end] = [f"  value: {_quoted(v)}" for v in added]
    return added


def propose_schema(text: str, findings: list[Finding]) -> SchemaEdit:
    try:
        root = parse_text_format(text)
    except TextFormatError as exc:
        return SchemaEdit(text, (), (f"the checked-in schema cannot be read (line {exc.line})",))
    features = _features(root)
    lines = text.splitlines()
    applied: list[str] = []
    notes: list[str] = []
    for finding in (f for f in findings if f.schema_change):
        feature = features.get(finding.feature)
        if "SCHEMA_NEW_COLUMN" in finding.kinds and feature is None:
            lines += ["feature {", f"  name: {_quoted(finding.feature)}",
                      "  lifecycle_stage: DEPRECATED", "}"]  # fmt: skip
            applied.append(f"new column {finding.feature}: recorded as known, not used")
        if "ENUM_TYPE_UNEXPECTED_STRING_VALUES" not in finding.kinds:
            continue
        try:
            # The statistics' values when the pipeline wrote them; TFDV's prose otherwise.
            values = (
                list(finding.values[:MAX_VALUES])
                if finding.values is not None
                else new_values(finding.description)
            )
            domain = feature.scalar("domain") if feature is not None else None
            added = _add_values(lines, domain, values) if domain and values else None
        except ValueError as exc:
            notes.append(f"{finding.feature}: {exc}; edit the schema by hand")
            continue
        if added:
            applied.append(f"new categories of {finding.feature}: {', '.join(added)}")
        elif not values:
            notes.append(f"{finding.feature}: TFDV's description names no values to add")
        elif added is None:
            notes.append(f"{finding.feature}: no top-level string_domain to add its values to")
    return SchemaEdit("\n".join(lines) + "\n", tuple(applied), tuple(notes))
