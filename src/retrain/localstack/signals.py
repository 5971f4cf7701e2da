"""One stop for every way a supervisor ends us: SIGINT (Ctrl-C), SIGTERM (`timeout`, systemd,
`docker stop`, CI cancellation) and SIGHUP (the terminal closed).

The first signal raises `Stopped` in the main thread, so `with LocalStack(...)` unwinds and
stops every process group the ordinary way. A signal while a stop runs (the second one, or the
first one during a stop that had begun anyway) forces it: every group is SIGKILLed at once,
and the stop, which waits for them, finishes right away.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from retrain.processes import procs

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_stop = {"underway": False}


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; `code` is the conventional exit status for it (128 + signal)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.code = 128 + signum
        super().__init__(self.name)


def _handle(signum: int, frame: FrameType | None) -> None:
    del frame
    if _stop["underway"]:
        print(f"{signal.Signals(signum).name} again: killing everything now", file=sys.stderr)
        procs.kill_all()
        return
    _stop["underway"] = True
    raise Stopped(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Inside this block, SIGINT, SIGTERM and SIGHUP raise `Stopped`; a second one forces."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals; its owner handles them
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        signal.signal(sig, _handle)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _stop["underway"] = False


@contextmanager
def stopping() -> Iterator[None]:
    """A stop that a signal must not interrupt, only force."""
    was = _stop["underway"]
    _stop["underway"] = True
    try:
        yield
    finally:
        _stop["underway"] = was
