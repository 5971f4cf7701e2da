"""Make untrusted text inert in GitHub markdown.

Metric names, slice values, run ids, error messages and anomaly descriptions come from data
and from pipelines: they must not add markup, links, HTML, or @-mentions to a comment. Names
go into code spans (GitHub renders nothing inside them, and does not mention from them);
free text goes into fenced code blocks. Table cells also need `|` escaped, even in code.
"""

from __future__ import annotations

import re

from retrain.redact import REDACTED, redact

__all__ = ["REDACTED", "code", "fenced", "mermaid_text", "redact"]

_BACKTICKS = re.compile(r"`+")
_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 _.:#/+-]")
MAX_FREE_TEXT = 4000


def _longest_backtick_run(text: str) -> int:
    return max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)


def code(text: str, in_table: bool = False) -> str:
    """An inline code span for one name; in a table cell, `|` must be escaped even here."""
    flat = " ".join(redact(text).split()) or " "
    fence = "`" * (_longest_backtick_run(flat) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    if in_table:
        flat = flat.replace("|", "\\|")
    return f"{fence}{pad}{flat}{pad}{fence}"


def fenced(text: str, limit: int = MAX_FREE_TEXT) -> str:
    """A fenced code block for free text (credentials redacted), cut at `limit` characters so
    a comment stays small."""
    text = redact(text)
    if len(text) > limit:
        text = text[:limit] + f"\n… ({len(text) - limit} more characters cut)"
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return f"{fence}text\n{text}\n{fence}"


def mermaid_text(text: str) -> str:
    """A string safe inside a mermaid double-quoted label."""
    return _MERMAID_UNSAFE.sub("_", text)[:40]
