"""How commands find the local stack: the record in the work directory, trusted only while the
process that wrote it lives, and one stack per directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrain.errors import RetrainError
from retrain.localstack.discovery import Claim, find, process_start, record_for


def test_a_claim_records_and_removes_and_excludes_a_second(tmp_path: Path) -> None:
    env = {"PUBSUB_EMULATOR_HOST": "127.0.0.1:8085"}
    with Claim(tmp_path) as claim:
        claim.publish(record_for("p", env, {"pubsub": "http://127.0.0.1:8085"}, [1], tmp_path))
        assert find(tmp_path).state == "running"
        with pytest.raises(RetrainError) as second:
            Claim(tmp_path).__enter__()
        assert f"a local stack is already running in {tmp_path}" in str(second.value)
        assert "pubsub               http://127.0.0.1:8085" in str(second.value)
    assert find(tmp_path).state == "none"  # removed on the way out


def test_a_record_whose_process_is_gone_is_stale(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    path = tmp_path / "stack.json"
    fields = {"project": "p", "env": {}, "endpoints": {}, "groups": [], "logs": "l"}
    path.write_text(json.dumps({"pid": int(gone.stdout), "started": 1, **fields}))
    assert find(tmp_path).state == "stale"
    # a live pid with another start time is a reused pid, not the stack
    started = process_start(os.getpid())
    assert started is not None
    path.write_text(json.dumps({"pid": os.getpid(), "started": started + 1, **fields}))
    assert find(tmp_path).state == "stale"
    # issue 25: a live pid with its true start time, planted, is not the stack either: the
    # stack is the process that holds `retrain up`'s lock on the directory
    path.write_text(json.dumps({"pid": os.getpid(), "started": started, **fields}))
    assert find(tmp_path).state == "stale"
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as other:
        try:
            other_started = process_start(other.pid)
            record = {"pid": other.pid, "started": other_started, **fields}
            path.write_text(json.dumps(record))
            assert find(tmp_path).state == "stale"
        finally:
            other.kill()


def test_a_broken_record_is_stale_and_replaced(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text("{not json")
    assert find(tmp_path).state == "stale"
    with Claim(tmp_path) as claim:
        assert claim.replaced is not None and claim.replaced.state == "stale"
        assert not (tmp_path / "stack.json").exists()
