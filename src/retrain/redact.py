"""The one redaction every text leaving the process goes through: comments, decision log lines
(Cloud Logging) and their reasons, whatever produced the text (a failed run's error, a vendor
exception, an event field).

Patterns, each shaped like a credential rather than a guess at one: GitHub tokens (classic and
fine-grained), Google API keys, Google OAuth access tokens (`ya29.`), JSON Web Tokens (three
base64url parts, the first two JSON objects: `eyJ`), PEM private keys, `Bearer` and `Basic`
authorization values, and the password of a `scheme://user:password@host` URL.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

REDACTED = "[redacted]"
_SECRETS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|AIza[0-9A-Za-z_-]{30,})"
    r"|\bya29\.[0-9A-Za-z_.-]{10,}"
    r"|\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{16,}",
    re.DOTALL,
)
# `Basic <base64 of user:password>`; "basic" before an ordinary word is left alone.
_BASIC = re.compile(r"\b(?i:basic)\s+([A-Za-z0-9+/]{4,}={0,2})")
# scheme://user:password@host: the user stays (it helps debugging), the password goes.
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@")


def _basic(match: re.Match[str]) -> str:
    encoded = match.group(1)
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        return match.group()
    return f"Basic {REDACTED}" if b":" in decoded else match.group()


def redact(text: str) -> str:
    """Replace anything shaped like a credential."""
    text = _BASIC.sub(_basic, _SECRETS.sub(REDACTED, text))
    return _URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", text)


def redact_all(value: Any) -> Any:
    """`redact` applied to every string inside a JSON-shaped value (keys too)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_all(k): redact_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_all(v) for v in value]
    return value
