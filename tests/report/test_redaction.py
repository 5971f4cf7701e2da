"""Free text in comments (run errors, TFX failures, anomalies) never carries a credential."""

from __future__ import annotations

import pytest

from retrain.report.escape import REDACTED, fenced, redact

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    "secret",
    [
        TOKEN,
        "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        KEY,
        "Bearer " + "ya29.a0AfH6SMBx3example-token-value",
        "AIza" + "SyA1234567890abcdefghijklmnopqrstu",
    ],
)
def test_credentials_in_error_text_are_redacted(secret: str) -> None:
    text = f"Trainer failed: request with {secret} was refused (403)"
    block = fenced(text)
    assert secret not in block
    assert REDACTED in block
    assert "Trainer failed: request with" in block and "was refused (403)" in block


def test_ordinary_text_is_untouched() -> None:
    text = "auc 0.71 < 0.75 on slice country=DE; job churn-data-77079a7ce1e3118940a2"
    assert redact(text) == text
