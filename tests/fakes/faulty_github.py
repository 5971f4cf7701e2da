"""The fake GitHub, with two faults its `fail_next` cannot script: an answer held back (client
timeouts) and an error returned after the request was carried out (a lost answer)."""

from __future__ import annotations

import re
import sys
import threading
import time
import traceback
from dataclasses import dataclass

from tests.fakes.github_server import FakeGitHub


@dataclass
class _Fault:
    method: str
    path: re.Pattern[str]
    delay: float
    status_after: int  # 0: answer normally after the delay


class FaultyGitHub(FakeGitHub):
    def __init__(self, files: dict[str, str] | None = None) -> None:
        super().__init__(files=files)
        self._faults: list[_Fault] = []
        self._fault_lock = threading.Lock()
        self._server.handle_error = self._quiet  # type: ignore[method-assign]

    @staticmethod
    def _quiet(request: object, client_address: object) -> None:
        """A client that timed out leaves a broken pipe behind: expected here."""
        kind = sys.exc_info()[0]
        if kind is None or not issubclass(kind, (BrokenPipeError, ConnectionResetError)):
            traceback.print_exc()

    def delay_next(self, method: str, path: str, seconds: float) -> None:
        """Hold the answer to the next matching request (the work is done after the wait)."""
        with self._fault_lock:
            self._faults.append(_Fault(method, re.compile(path), seconds, 0))

    def fail_after(self, method: str, path: str, status: int = 500) -> None:
        """Carry out the next matching request, then answer `status` instead of its result."""
        with self._fault_lock:
            self._faults.append(_Fault(method, re.compile(path), 0.0, status))

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        fault = None
        with self._fault_lock:
            for i, candidate in enumerate(self._faults):
                if candidate.method == method and candidate.path.search(raw_path.split("?")[0]):
                    fault = self._faults.pop(i)
                    break
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        status, extra, data = super().handle(method, raw_path, headers, raw)
        if fault is not None and fault.status_after:
            return fault.status_after, {}, b'{"message": "Server Error"}'
        return status, extra, data
