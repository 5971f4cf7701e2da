"""One table from the vendors' exceptions to retrain's error tree, and one backoff helper.

Every adapter calls its vendor inside `translated(what)`; whatever the vendor raises leaves as
one of ours (`raise ... from exc`), so callers catch `RetrainError` and nothing else:

    vendor exception                                  retrain error
    google.api_core  429, 408, 5xx, Aborted (contention) TransientError   retry or redeliver
    google.api_core  404                              NotFound        (a BackendError)
    google.api_core  409 (ALREADY_EXISTS)             AlreadyExists   (a BackendError)
    google.api_core  401, 403 and other 4xx           BackendError    refused for good
    google.auth      TransportError                   TransientError
    google.auth      DefaultCredentialsError          ConfigError
    requests         any RequestException (network)   TransientError
    PyGithub         5xx, 429, rate limits            TransientError
    PyGithub         404                              NotFound
    PyGithub         other statuses                   BackendError
    anything else                                     re-raised as it is (a bug, not weather)

Classes are matched by their qualified names along the MRO, so this module imports no vendor
library: a function that only dismisses an event never pays for importing google or github.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from retrain.errors import (
    AlreadyExists,
    BackendError,
    ConfigError,
    NotFound,
    RetrainError,
    TransientError,
)

T = TypeVar("T")

# Qualified class name -> our error, checked before status codes (most specific first).
BY_CLASS: dict[str, type[RetrainError]] = {
    # Firestore answers lock contention with ABORTED (HTTP 409): try again, it is not a clash.
    "google.api_core.exceptions.Aborted": TransientError,
    "google.api_core.exceptions.RetryError": TransientError,
    "google.auth.exceptions.TransportError": TransientError,
    "google.auth.exceptions.DefaultCredentialsError": ConfigError,
    "google.auth.exceptions.RefreshError": BackendError,
    # Broken connections, timeouts and retries given up by urllib3: the network, not the request.
    "requests.exceptions.RequestException": TransientError,
    "github.GithubException.RateLimitExceededException": TransientError,
    "github.GithubException.UnknownObjectException": NotFound,
}
# Vendor exception families whose HTTP status decides.
BY_STATUS_FAMILIES = (
    "google.api_core.exceptions.GoogleAPICallError",
    "github.GithubException.GithubException",
)
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _names(exc: BaseException) -> list[str]:
    return [f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__]


def status_of(exc: BaseException) -> int | None:
    """The HTTP status a vendor error carries (api_core: `code`, PyGithub: `status`)."""
    for attribute in ("code", "status"):
        value = getattr(exc, attribute, None)
        if isinstance(value, int):
            return value
    return None


def brief(exc: BaseException) -> str:
    """An error in one line, without the request it came from (URLs may carry more than we
    want in a log line)."""
    status = status_of(exc)
    message = getattr(exc, "message", None)
    data = getattr(exc, "data", None)
    if not message and isinstance(data, dict):
        message = data.get("message")
    message = message or type(exc).__name__
    return f"{status} {message}" if status is not None else str(message)


def kind_of(exc: BaseException) -> type[RetrainError] | None:
    """Our error class for a vendor exception; None when the table does not know it."""
    names = _names(exc)
    for name in names:
        if name in BY_CLASS:
            return BY_CLASS[name]
    if any(name in BY_STATUS_FAMILIES for name in names):
        status = status_of(exc)
        if status is None or status in TRANSIENT_STATUSES or status >= 500:
            return TransientError
        if status == 404:
            return NotFound
        if status == 409:
            return AlreadyExists
        if status == 403 and "rate limit" in brief(exc).lower():
            return TransientError
        return BackendError
    return None


def translate(exc: BaseException, what: str) -> RetrainError | None:
    """`exc` as one of ours, its message prefixed with what we were doing; None if unknown."""
    if isinstance(exc, RetrainError):
        return exc
    kind = kind_of(exc)
    if kind is None:
        return None
    denied = "access denied: " if status_of(exc) in (401, 403) and kind is BackendError else ""
    return kind(f"{what}: {denied}{brief(exc)}")


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Run a vendor call; its known errors leave as ours (`from` the original)."""
    try:
        yield
    except RetrainError:
        raise
    except Exception as exc:
        ours = translate(exc, what)
        if ours is None:
            raise
        raise ours from exc


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff, optionally jittered. `sleep` is injectable for tests."""

    attempts: int = 4
    first_delay: float = 0.5
    max_delay: float = 4.0
    jitter: bool = False
    sleep: Callable[[float], None] = time.sleep

    def run(self, call: Callable[[int], T], retry: Callable[[RetrainError], bool]) -> T:
        """`call(attempt)` (1-based) until it returns, or raises an error `retry` refuses, or
        the attempts run out (the last error is raised)."""
        delay = self.first_delay
        for attempt in range(1, self.attempts + 1):
            try:
                return call(attempt)
            except RetrainError as exc:
                if attempt == self.attempts or not retry(exc):
                    raise
            self.sleep(delay * random.uniform(0.5, 1.5) if self.jitter else delay)
            delay = min(delay * 2, self.max_delay)
        raise AssertionError("unreachable")


def is_transient(exc: RetrainError) -> bool:
    return isinstance(exc, TransientError)
