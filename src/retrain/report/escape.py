"""Make untrusted text inert in GitHub markdown.

Metric names, slice values, run ids, error messages and anomaly descriptions come from data
and from pipelines: they must not add markup, links, HTML, or @-mentions to a comment. Names
go into code spans (GitHub renders nothing inside them, and does not mention from them);
free text goes into fenced code blocks. Table cells also need `|` escaped, even in code.
"""

from __future__ import annotations

import re

from retrain.redact import REDACTED, redact

__all__ = [
    "REDACTED",
    "code",
    "fenced",
    "hide_local_paths",
    "mermaid_text",
    "one_line",
    "redact",
    "terminal",
]

_BACKTICKS = re.compile(r"`+")
_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 _.:#/+-]")
# What a terminal or a one-line title acts on rather than shows: C0 and C1 controls (escape
# sequences start with ESC or CSI), DEL, line and paragraph separators, and the bidirectional
# controls that reorder what is shown (Trojan Source). Newline and tab are kept in `terminal`.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_TERMINAL_UNSAFE = re.compile(f"[{_CONTROLS}]")
_LINE_UNSAFE = re.compile(f"[{_CONTROLS}\n\t]")
MAX_FREE_TEXT = 4000


# An absolute local path (`/home/...`, `file:///...`, `C:\\...`): at the start of a word, so
# `gs://bucket/x`, `https://host/x` and `</b>` stay whole. A comment is read far from the machine
# the path is on: only its last two parts mean anything there, and the rest names the machine.
_LOCAL_PATH = re.compile(
    r"(?:file://|(?<![^\s'\"(\[=`]))(?:/|[A-Za-z]:\\)(?:[^\s/\\'\"`()<>,;]+[/\\])*"
    r"[^\s/\\'\"`()<>,;]+"
)


def _shortened(match: re.Match[str]) -> str:
    parts = [p for p in re.split(r"[/\\]", match.group()) if p and p != "file:"]
    return "…/" + "/".join(parts[-2:])


def hide_local_paths(text: str) -> str:
    """Absolute local paths cut to their last two parts: `…/churn/pipeline_root`."""
    return _LOCAL_PATH.sub(_shortened, text)


def _longest_backtick_run(text: str) -> int:
    return max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)


def code(text: str, in_table: bool = False) -> str:
    """An inline code span for one name; in a table cell, `|` must be escaped even here."""
    flat = " ".join(hide_local_paths(redact(text)).split()) or " "
    fence = "`" * (_longest_backtick_run(flat) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    if in_table:
        flat = flat.replace("|", "\\|")
    return f"{fence}{pad}{flat}{pad}{fence}"


def fenced(text: str, limit: int = MAX_FREE_TEXT) -> str:
    """A fenced code block for free text (credentials redacted), cut at `limit` characters so
    a comment stays small."""
    text = hide_local_paths(redact(text))
    if len(text) > limit:
        text = text[:limit] + f"\n… ({len(text) - limit} more characters cut)"
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return f"{fence}text\n{text}\n{fence}"


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def terminal(text: str) -> str:
    """Text for a terminal: every control character shown escaped (`\\x1b`, `\\u202e`),
    never acted on; newlines and tabs kept."""
    return _TERMINAL_UNSAFE.sub(_escaped, text)


def one_line(text: str, limit: int = 200) -> str:
    """Text for one line (a PR title, a log line): controls, newlines and tabs escaped, then
    cut at `limit` characters."""
    flat = _LINE_UNSAFE.sub(_escaped, text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def mermaid_text(text: str) -> str:
    """A string safe inside a mermaid double-quoted label."""
    return _MERMAID_UNSAFE.sub("_", text)[:40]
