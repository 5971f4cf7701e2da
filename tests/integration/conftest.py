"""One local stack per test session: Pub/Sub and Firestore emulators and the four function
servers (local backend, with tests/fakes/local_run.py standing in for `retrain run`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrain.localstack.stack import LocalStack, StackConfig
from tests.fakes import local_run_command

HERE = Path(__file__).parent
SPECS = HERE.parent / "golden" / "events" / "specs"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = tmp_path_factory.mktemp("stack")
    config = StackConfig(
        specs_dir=SPECS,
        workdir=work / "work",
        logs_dir=work / "logs",
        flush_every=0,  # these tests count each delivery's decisions; test_wake_up has its own
        env={
            "RETRAIN_LOCAL_RUN_COMMAND": local_run_command(),
            "RETRAIN_STATE_PREFIX": f"t{uuid.uuid4().hex[:8]}",
            "RETRAIN_GIT_SHA": "9b241c8",
        },
    )
    with LocalStack(config) as running:
        yield running
    for proc in running.procs.values():  # stop() emptied it; ports were checked free there
        raise AssertionError(f"{proc.name} left running")
