"""The local stack stops on every signal a supervisor sends, and when its parent is killed.

Each test starts the real `retrain up` (Pub/Sub and Firestore emulators, four function servers)
or `retrain demo` in a subprocess, notes every process under it, signals it as `timeout`,
systemd, `docker stop` or a closed terminal would, and then asserts that none of those
processes and none of the ports it listened on remains.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrain.localstack.discovery import find, process_start
from retrain.processes.procs import port_open
from retrain.processes.watchdog import processes
from tests.conftest import REPO
from tests.fakes import local_run_command

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(shutil.which("gcloud") is None, reason="needs the Google Cloud CLI"),
]

HERE = Path(__file__).parent
SPECS = HERE.parent / "golden" / "events" / "specs"
RETRAIN = [sys.executable, "-m", "retrain.cli.main"]
Seen = set[tuple[int, int | None]]  # (pid, start time): a reused pid is another process


def descendants(root: int) -> Seen:
    table = processes()
    found: Seen = set()
    todo = [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, _) in table.items():
            if ppid == parent:
                found.add((pid, process_start(pid)))
                todo.append(pid)
    return found


def survivors(seen: Seen) -> list[int]:
    return sorted(pid for pid, started in seen if started and process_start(pid) == started)


def wait_until(what: str, check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def stack_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")}
    return {
        **env,
        "RETRAIN_LOCAL_RUN_COMMAND": local_run_command(),
        "RETRAIN_STATE_PREFIX": f"s{os.getpid()}",
        "RETRAIN_REPO_ROOT": str(tmp),
    }


class Up:
    """`retrain up` in a subprocess, with what it started."""

    def __init__(self, tmp: Path) -> None:
        self.workdir = tmp / "work"
        self.out = tmp / "up.log"
        self.popen = subprocess.Popen(
            [*RETRAIN, "up", "--specs", str(SPECS), "--workdir", str(self.workdir)],
            stdout=self.out.open("wb"),
            stderr=subprocess.STDOUT,
            env=stack_env(tmp),
            cwd=REPO,
            start_new_session=True,  # signals go to `retrain up` alone, as a supervisor's do
        )
        wait_until("the stack record", self.ready, 180)
        record = find(self.workdir).record
        assert record is not None and record.pid == self.popen.pid
        self.ports = [int(url.rsplit(":", 1)[1]) for url in record.endpoints.values()]
        self.seen = descendants(self.popen.pid)
        assert all(port_open(port) for port in self.ports)
        # two emulators (gcloud + Java each) and four function servers, each under a watchdog
        assert len(self.seen) >= 12, self.seen

    def ready(self) -> bool:
        if self.popen.poll() is not None:
            raise AssertionError(f"retrain up exited:\n{self.out.read_text()}")
        return find(self.workdir).state == "running"

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def assert_nothing_left(self, timeout: float = 30) -> None:
        wait_until("every process of the stack to exit", lambda: not survivors(self.seen), timeout)
        assert [port for port in self.ports if port_open(port)] == []

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()
        for pid in survivors(self.seen):  # only if a test failed: leave nothing behind
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    stack = Up(tmp_path)
    try:
        yield stack
    finally:
        stack.kill()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_each_signal_stops_the_whole_stack(up: Up, sig: signal.Signals) -> None:
    up.popen.send_signal(sig)
    assert up.popen.wait(timeout=60) == 0, up.output()
    assert f"stopped on {sig.name}; no process left behind" in up.output()
    up.assert_nothing_left(timeout=1)  # stopped before it exited, not afterwards
    assert find(up.workdir).state == "none"  # the record went with it


def test_a_killed_parent_takes_its_stack_with_it(up: Up) -> None:
    """SIGKILL runs no handler: the watchdogs see their parent gone and stop their groups."""
    up.popen.kill()
    up.popen.wait(timeout=10)
    up.assert_nothing_left(timeout=30)
    found = find(up.workdir)
    assert found.state == "stale"
    status = subprocess.run(
        [*RETRAIN, "stack", "--workdir", str(up.workdir)], capture_output=True, text=True
    )
    assert status.returncode == 1 and "stale record" in status.stdout


def test_a_second_signal_during_the_stop_forces_it(up: Up) -> None:
    up.popen.send_signal(signal.SIGTERM)
    time.sleep(0.3)  # the emulators take seconds to stop gracefully: still stopping now
    up.popen.send_signal(signal.SIGTERM)
    assert up.popen.wait(timeout=30) == 0, up.output()
    assert "SIGTERM again: killing everything now" in up.output()
    up.assert_nothing_left(timeout=1)


def test_a_running_stack_is_found_without_exports(up: Up, tmp_path: Path) -> None:
    again = subprocess.run(
        [*RETRAIN, "up", "--specs", str(SPECS), "--workdir", str(up.workdir)],
        capture_output=True,
        text=True,
        env=stack_env(tmp_path),
        timeout=60,
    )
    assert again.returncode == 2
    assert f"a local stack is already running in {up.workdir}" in again.stderr
    record = find(up.workdir).record
    assert record is not None and record.endpoints["pubsub"] in again.stderr

    status = subprocess.run(
        [*RETRAIN, "stack", "--workdir", str(up.workdir)], capture_output=True, text=True
    )
    assert status.returncode == 0 and record.endpoints["on_data_arrival"] in status.stdout

    (tmp_path / "data").mkdir()
    append = subprocess.run(
        [*RETRAIN, "data", "append", str(SPECS / "churn.yaml"), "--rows", "700",
         "--workdir", str(up.workdir)],
        capture_output=True, text=True, env=stack_env(tmp_path), timeout=120,
    )  # fmt: skip
    assert append.returncode == 0, append.stderr
    assert record.env["PUBSUB_EMULATOR_HOST"] in append.stdout
    log = Path(record.logs) / "on_data_arrival.log"
    wait_until(
        "on_data_arrival to decide",
        lambda: log.exists() and '"decision"' in log.read_text(errors="replace"),
        60,
    )
    # an explicit PUBSUB_EMULATOR_HOST wins: no stack recorded where this one looks
    explicit = {**stack_env(tmp_path), "PUBSUB_EMULATOR_HOST": record.env["PUBSUB_EMULATOR_HOST"]}
    append = subprocess.run(
        [*RETRAIN, "data", "append", str(SPECS / "churn.yaml"), "--rows", "700",
         "--workdir", str(tmp_path / "elsewhere")],
        capture_output=True, text=True, env=explicit, timeout=120,
    )  # fmt: skip
    assert append.returncode == 0, append.stderr
    assert up.seen - descendants(up.popen.pid) == set()  # nothing of the stack died meanwhile


def test_data_append_without_a_stack_says_where_it_looked(tmp_path: Path) -> None:
    append = subprocess.run(
        [*RETRAIN, "data", "append", str(SPECS / "churn.yaml"), "--rows", "5",
         "--workdir", str(tmp_path / "nothing")],
        capture_output=True, text=True, env=stack_env(tmp_path), timeout=60,
    )  # fmt: skip
    assert append.returncode == 2
    assert f"no local stack in {tmp_path / 'nothing'}" in append.stderr
    assert not (tmp_path / "data").exists()  # refused before touching the data


@pytest.mark.tfx
def test_the_demo_interrupted_at_a_random_moment_leaves_nothing(tmp_path: Path) -> None:
    """SIGTERM at a random moment of `retrain demo` (compile, stack start, a TFX run, ...)."""
    seed = random.randrange(10**6)
    moment = random.Random(seed).uniform(1.0, 75.0)
    out = tmp_path / "demo.log"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")}
    demo = subprocess.Popen(
        [*RETRAIN, "demo", "--workdir", str(tmp_path / "demo"), "--train-steps", "100",
         "--rows-scale", "0.5"],
        stdout=out.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=REPO,
        start_new_session=True,
    )  # fmt: skip
    seen: Seen = set()
    try:
        deadline = time.monotonic() + moment
        while time.monotonic() < deadline and demo.poll() is None:
            seen |= descendants(demo.pid)
            time.sleep(0.1)
        demo.send_signal(signal.SIGTERM)
        code = demo.wait(timeout=120)
        text = out.read_text(errors="replace")
        why = f"SIGTERM after {moment:.1f}s (seed {seed}):\n{text[-3000:]}"
        assert code == 128 + signal.SIGTERM, why
        assert "demo stopped on SIGTERM" in text, why
        wait_until("nothing left", lambda: not survivors(seen), 2)
        ports = [int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)", text)]
        assert [p for p in ports if port_open(p)] == [], why
    finally:
        if demo.poll() is None:
            demo.kill()
        for pid in survivors(seen):
            os.kill(pid, signal.SIGKILL)
