"""The one exception root of retrain, so callers can catch everything we raise. Vendor errors
are mapped into this tree by one table, `retrain.vendor_errors`.

RetrainError
├── SpecError            a spec file is invalid (carries every problem found)
├── SummaryError         an evaluation summary JSON is missing or malformed
├── EventError           an event cannot be decoded: permanent, acknowledge and record
├── TransientError       a backend is briefly unavailable: raise so Pub/Sub redelivers
├── BackendError         a backend refused a request for good (bad template, permission)
│   ├── NotFound         the object or job asked for does not exist
│   └── AlreadyExists    the object or job to create exists already (deduplication)
├── PipelineError        a pipeline failed to build, compile or run
└── ConfigError          the service's environment settings are missing or invalid
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Line breaks and other control characters in a key or value would start a new output line
# (in a workflow log, one starting with `::error`): shown escaped instead.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class RetrainError(Exception):
    """Root of every error retrain raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one spec file, pointing at the line of the offending key."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        field = self.field or "<root>"
        return _one_line(f"{self.file}:{self.line}: {field}: {self.message}")


class SpecError(RetrainError):
    """One or more spec files are invalid."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SummaryError(RetrainError):
    """An evaluation summary is missing or does not match the contract."""


class EventError(RetrainError):
    """An event cannot be decoded or is not one we understand; retrying will not help."""


class TransientError(RetrainError):
    """A backend is temporarily unavailable; the event should be redelivered."""


class BackendError(RetrainError):
    """A backend refused a request permanently."""


class NotFound(BackendError):
    """The object or job asked for does not exist."""


class AlreadyExists(BackendError):
    """The object or job to create exists already: for deterministic job ids, a duplicate."""


class PipelineError(RetrainError):
    """A pipeline failed to build, compile or run."""


class ConfigError(RetrainError):
    """The service's environment settings are missing or invalid."""
