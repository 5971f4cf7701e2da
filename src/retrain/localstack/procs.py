"""Child processes that leave nothing behind: each in its own process group, stopped as a group.

`gcloud beta emulators ... start` runs the emulator as a Java grandchild that outlives gcloud
when only gcloud is signalled; killing the group takes both. After stopping, the port is
checked free, so a test run cannot leak a listener into the next one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from retrain.errors import RetrainError


def free_port() -> int:
    """A port free right now on 127.0.0.1 (other engineers run tests on this machine too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Proc:
    """A started child: its name, port and log file."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.name = name
        self.popen = popen
        self.port = port
        self.log = log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if port_open(self.port):
                return
            if self.popen.poll() is not None:
                raise RetrainError(
                    f"{self.name} exited with {self.popen.returncode}; see {self.log}"
                )
            time.sleep(0.1)
        self.stop()
        raise RetrainError(f"{self.name} did not listen on port {self.port} within {timeout:.0f}s")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the group, SIGKILL it if it lingers, then insist the port is free."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                continue
            if not _group_alive(self.popen.pid):
                break
            time.sleep(0.2)
        if _group_alive(self.popen.pid):
            os.killpg(self.popen.pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while port_open(self.port):
            if time.monotonic() > deadline:
                raise RetrainError(f"{self.name}: port {self.port} still in use after stop")
            time.sleep(0.1)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start(
    name: str, argv: Sequence[str], port: int, log: Path, env: Mapping[str, str] | None = None
) -> Proc:
    log.parent.mkdir(parents=True, exist_ok=True)
    popen = subprocess.Popen(
        list(argv),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=dict(env) if env is not None else None,
        start_new_session=True,  # its own process group: stop() kills children too
    )
    return Proc(name, popen, port, log)
