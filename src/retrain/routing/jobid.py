"""Deterministic pipeline job ids: the same (spec, version, key) always names the same job,
so a redelivered event or two instances racing on one message collide on ALREADY_EXISTS.
"""

from __future__ import annotations

import hashlib

_TRIGGER_SHORT = {
    "data_arrival": "data",
    "drift": "drift",
    "pull_request": "pr",
    "schedule": "cron",
    "manual": "manual",
}


def derive_job_id(spec: str, spec_version: str, trigger: str, key: str, nonce: str = "") -> str:
    """`<spec>-<trigger>-<20 hex>`; an explicit `nonce` is the one way to ask for a fresh run."""
    material = "\x1f".join((spec, spec_version, trigger, key, nonce))
    digest = hashlib.sha256(material.encode()).hexdigest()[:20]
    return f"{spec}-{_TRIGGER_SHORT.get(trigger, 'run')}-{digest}"
