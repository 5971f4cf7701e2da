"""Child processes that leave nothing behind: each in its own process group, stopped as a group.

`gcloud beta emulators ... start` runs the emulator as a Java grandchild that outlives gcloud
when only gcloud is signalled; killing the group takes both. Each group is led by a watchdog
(`retrain.processes.watchdog`) that stops it if this process dies without stopping it (even
by SIGKILL). Stopping also takes the groups that processes of the group started for themselves
(a local run started by a function server), and then the port is checked free, so a test run
cannot leak a listener into the next one. Process facts come from /proc (Linux).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from retrain.errors import RetrainError
from retrain.processes.watchdog import members, signal_groups, tree_groups

# Every group started by this process and not yet stopped: what a forced stop kills.
_LIVE: dict[int, Proc] = {}


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


def stop_groups(groups: set[int], timeout: float = 10.0) -> None:
    """SIGTERM the groups, wait for their members to exit, SIGKILL what remains."""
    groups = groups - {os.getpgrp()}  # never our own group, whatever a child did
    signal_groups(groups, signal.SIGTERM)
    if _wait_gone(groups, timeout):
        return
    signal_groups(groups, signal.SIGKILL)
    if not _wait_gone(groups, 5.0):
        raise RetrainError(f"processes {members(groups)} survived SIGKILL")


def stop_tree(pgid: int, timeout: float = 10.0) -> None:
    """Stop a process group and the groups its members started, if it still runs."""
    if members([pgid]):
        stop_groups(tree_groups(pgid), timeout)


def _wait_gone(groups: set[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while members(groups):
        _reap()
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _reap() -> None:
    for proc in list(_LIVE.values()):
        proc.popen.poll()


def kill_all() -> None:
    """SIGKILL every group this process started: what a second signal during a stop does."""
    groups: set[int] = set()
    for proc in list(_LIVE.values()):
        groups |= tree_groups(proc.pgid)
    signal_groups(groups, signal.SIGKILL)


class Proc:
    """A started child: its name, port and log file; its pid is its process group's id."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.name = name
        self.popen = popen
        self.port = port
        self.log = log

    @property
    def pgid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if port_open(self.port):
                return
            if self.popen.poll() is not None:
                self.stop()
                raise RetrainError(
                    f"{self.name} exited with {self.popen.returncode}; see {self.log}"
                )
            time.sleep(0.1)
        self.stop()
        raise RetrainError(f"{self.name} did not listen on port {self.port} within {timeout:.0f}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the group and the groups it started, then insist the port is free."""
        try:
            stop_groups(tree_groups(self.pgid), timeout)
        finally:
            self.popen.poll()
            _LIVE.pop(self.pgid, None)
        deadline = time.monotonic() + timeout
        while port_open(self.port):
            if time.monotonic() > deadline:
                raise RetrainError(f"{self.name}: port {self.port} still in use after stop")
            time.sleep(0.1)


def tied(argv: Sequence[str]) -> list[str]:
    """`argv` run under a watchdog that stops its process group when this process dies; start
    it with `start_new_session=True`."""
    watchdog = [sys.executable, "-m", "retrain.processes.watchdog", str(os.getpid()), "--"]
    return [*watchdog, *argv]


def start(
    name: str, argv: Sequence[str], port: int, log: Path, env: Mapping[str, str] | None = None
) -> Proc:
    log.parent.mkdir(parents=True, exist_ok=True)
    out: IO[bytes]
    with log.open("wb") as out:
        popen = subprocess.Popen(
            tied(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            start_new_session=True,  # its own process group: stop() kills children too
        )
    proc = Proc(name, popen, port, log)
    _LIVE[proc.pgid] = proc
    return proc
