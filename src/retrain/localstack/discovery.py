"""Where a running local stack says it is: `<workdir>/stack.json`, so other commands find its
endpoints without exports.

`retrain up` holds an exclusive lock on `<workdir>/stack.lock` for its whole life (the kernel
drops it when the process ends, however it ends), writes the record once the stack is ready
and removes it on stop. A reader trusts a record only while the process that wrote it lives
(same pid and same start time, so a reused pid is not mistaken for it) and holds that lock
(so a planted record naming some other live process is not trusted); otherwise the record is
stale.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from retrain.errors import RetrainError

RECORD = "stack.json"
LOCK = "stack.lock"


class StackRecord(BaseModel):
    """What `retrain up` writes; read back as untrusted input."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pid: int
    started: int  # the process's start time in clock ticks after boot (/proc/PID/stat)
    project: str
    env: dict[str, str]  # PUBSUB_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST
    endpoints: dict[str, str]  # process name -> URL
    groups: list[int]  # the process groups the stack started
    logs: str

    def describe(self) -> list[str]:
        lines = [f"{name:<20} {url}" for name, url in self.endpoints.items()]
        return [*lines, f"project {self.project}; logs {self.logs}; pid {self.pid}"]


def process_start(pid: int) -> int | None:
    """When the process started (ticks after boot), or None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])


@dataclass(frozen=True)
class Found:
    state: Literal["running", "stale", "none"]
    path: Path
    record: StackRecord | None = None

    def explain(self) -> str:
        if self.state == "none":
            return f"no local stack in {self.path.parent} (start one: retrain up --workdir ...)"
        if self.state == "stale":
            pid = f" (pid {self.record.pid} is gone)" if self.record else ""
            return f"stale record {self.path}{pid}: its stack is not running"
        return f"a local stack is running in {self.path.parent}"


def read(path: Path) -> StackRecord:
    try:
        return StackRecord.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise RetrainError(f"cannot read {path}: {exc.strerror}") from None
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()
        )
        raise RetrainError(f"{path}: not a stack record: {where}") from None


def find(workdir: Path) -> Found:
    """The stack recorded in `workdir`, and whether it is still running."""
    path = workdir / RECORD
    if not path.exists():
        return Found("none", path)
    try:
        record = read(path)
    except RetrainError:
        return Found("stale", path)  # what no live `retrain up` would have written
    alive = process_start(record.pid) == record.started
    # Anyone who can write the directory can plant a record naming some live pid (its start
    # time is public in /proc): the stack's process is the one holding `retrain up`'s lock.
    held = record.pid in lock_holders(workdir / LOCK)
    return Found("running" if alive and held else "stale", path, record)


def lock_holders(path: Path) -> set[int]:
    """The pids holding a flock on `path` (Linux `/proc/locks`: `N: FLOCK ADVISORY WRITE PID
    MAJ:MIN:INODE START END`); empty when there is none or it cannot be told."""
    try:
        stat = path.stat()
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            lines = locks.read().splitlines()
    except OSError:
        return set()
    where = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    holders = set()
    for line in lines:
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == where:
            holders.add(int(fields[4]))
    return holders


class Claim:
    """`retrain up`'s hold on its work directory: one stack per directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.path = workdir / RECORD
        self._lock: IO[bytes] | None = None
        self.replaced: Found | None = None  # a stale record found and removed

    def __enter__(self) -> Claim:
        self.workdir.mkdir(parents=True, exist_ok=True)
        lock = (self.workdir / LOCK).open("ab")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            found = find(self.workdir)
            lines = found.record.describe() if found.state == "running" and found.record else []
            raise RetrainError(
                "\n  ".join([f"a local stack is already running in {self.workdir}", *lines])
                if lines
                else f"a local stack is starting or stopping in {self.workdir}; try again"
            ) from None
        self._lock = lock
        found = find(self.workdir)
        if found.state != "none":  # the lock was free, so whoever wrote it is gone
            self.replaced = found
            self.path.unlink(missing_ok=True)
        return self

    def publish(self, record: StackRecord) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record.model_dump(), indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.path)

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None


def record_for(
    project: str, env: dict[str, str], endpoints: dict[str, str], groups: list[int], logs: Path
) -> StackRecord:
    started = process_start(os.getpid())
    assert started is not None  # this process is alive
    return StackRecord(
        pid=os.getpid(),
        started=started,
        project=project,
        env=env,
        endpoints=endpoints,
        groups=groups,
        logs=str(logs),
    )
