"""Runs one command and ties its process group to the parent's life.

`python -m retrain.processes.watchdog PARENT_PID -- COMMAND...` is started as the leader of a
new process group; the command runs in that group. When the command exits, so does the
watchdog, with the same status. When the parent dies (even by SIGKILL, which no handler sees),
the watchdog is re-parented: it then stops its group and the groups its members started,
SIGTERM first, SIGKILL after a grace period. Polling `getppid` is immune to pid reuse, and to
`PR_SET_PDEATHSIG`'s catch that it fires when the parent's *thread* ends. Standard library
only: it starts in milliseconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable

POLL = 0.2  # seconds between checks of the parent
GRACE = 5.0  # seconds between SIGTERM and SIGKILL once the parent is gone


def _exit_like(code: int) -> None:
    """Exit with the child's status; a child killed by a signal is mirrored by that signal."""
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


def _stop_tree() -> None:
    """SIGTERM this group and every group its members started (gcloud moves itself and its
    Java emulator into a group of their own), SIGKILL what remains after the grace period."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    me = os.getpid()
    groups = tree_groups(os.getpgrp())
    signal_groups(groups, signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline:
        if not [pid for pid in members(groups) if pid != me]:
            return
        time.sleep(POLL)
    signal_groups(groups, signal.SIGKILL)  # the watchdog goes with them


def processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every live (not zombie) process, from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        if fields[0] != "Z":
            found[int(entry)] = (int(fields[1]), int(fields[2]))
    return found


def members(groups: Iterable[int]) -> list[int]:
    """The live processes of these process groups."""
    wanted = set(groups)
    return sorted(pid for pid, (_, group) in processes().items() if group in wanted)


def tree_groups(pgid: int) -> set[int]:
    """This group and every group that its members' descendants belong to."""
    table = processes()
    pids = [pid for pid, (_, group) in table.items() if group == pgid]
    groups = {pgid}
    while pids:
        parent = pids.pop()
        for pid, (ppid, group) in table.items():
            if ppid == parent:
                pids.append(pid)
                groups.add(group)
    return groups


def signal_groups(groups: Iterable[int], sig: signal.Signals) -> None:
    for group in groups:
        # gone already (a group id is not reused while a member lives)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m retrain.processes.watchdog PARENT_PID -- COMMAND...")
    parent = int(argv[0])
    if os.getppid() != parent:  # the parent died before we could watch it
        sys.exit(1)
    child = subprocess.Popen(argv[2:])
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            _exit_like(child.wait(timeout=POLL))
        if os.getppid() != parent:
            _stop_tree()
            _exit_like(child.wait())


if __name__ == "__main__":
    main(sys.argv[1:])
