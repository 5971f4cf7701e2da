"""On the local stack (emulators, functions-framework servers, the wake-up ticker): rows
appended while a run is in progress are trained by a following run, with no further event."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import yaml

from retrain.events.bigquery import table_data_change_entry
from retrain.google.pubsub import PubSubPublisher
from retrain.localstack.stack import LocalStack, StackConfig
from retrain.topics import TOPICS
from tests.fakes import local_run_command
from tests.integration.test_stack import decisions_in, wait_for
from tests.routing.helpers import CHURN_TABLE, SPECS

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def quick_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """churn with a 5 s debounce window and 100 rows to run, runs that take 6 s."""
    work = tmp_path_factory.mktemp("wake")
    specs = work / "specs"
    specs.mkdir()
    spec = yaml.safe_load((SPECS / "churn.yaml").read_text())
    spec["triggers"]["data_arrival"] = {"min_new_rows": 100, "debounce": "5s"}
    (specs / "churn.yaml").write_text(yaml.safe_dump(spec))
    config = StackConfig(
        specs_dir=specs,
        workdir=work / "work",
        logs_dir=work / "logs",
        functions=("on_data_arrival", "on_run_complete", "on_schedule"),
        flush_every=1.0,
        env={
            "RETRAIN_LOCAL_RUN_COMMAND": local_run_command(seconds=6),
            "RETRAIN_STATE_PREFIX": f"w{uuid.uuid4().hex[:8]}",
            "RETRAIN_GIT_SHA": "9b241c8",
        },
    )
    with LocalStack(config) as running:
        yield running


def test_rows_appended_during_a_run_are_trained_by_the_next_one(quick_stack: LocalStack) -> None:
    publisher = PubSubPublisher(quick_stack.config.project)
    arrivals = quick_stack.procs["on_data_arrival"].log
    first_entry = table_data_change_entry(CHURN_TABLE, 800, "w-1", datetime.now(timezone.utc))
    publisher.publish(TOPICS["on_data_arrival"], first_entry, {})
    first = wait_for(arrivals, lambda r: r["decision"] == "run")
    assert first["reason"] == "800 new rows (min 100)"
    during = table_data_change_entry(CHURN_TABLE, 300, "w-2", datetime.now(timezone.utc))
    publisher.publish(TOPICS["on_data_arrival"], during, {})
    kept = wait_for(arrivals, lambda r: r["decision"] == "debounced")
    assert kept["reason"].startswith("1 run(s) in progress")

    def follow_up(record: dict[str, object]) -> bool:
        return record["decision"] == "run" and record["job_id"] != first["job_id"]

    logs = [quick_stack.procs[n].log for n in ("on_run_complete", "on_schedule")]
    found = None
    deadline = time.monotonic() + 90  # whichever wakes it first: the run's end or the ticker
    while found is None and time.monotonic() < deadline:
        found = next((r for log in logs for r in decisions_in(log) if follow_up(r)), None)
        time.sleep(0.5)
    assert found is not None, "no run started for the rows kept while busy"
    assert found["reason"] == "wake-up: 300 new rows (min 100)"
    summaries = quick_stack.config.workdir.resolve() / "churn/pipeline_root/summaries"
    completed = wait_for(
        quick_stack.procs["on_run_complete"].log,
        lambda r: r["decision"] == "completed" and r["job_id"] == found["job_id"],
        timeout=60,
    )
    assert completed["reason"] == "succeeded"
    passed = json.loads((summaries / str(found["job_id"]) / "args.json").read_text())
    assert passed["trigger"] == "data_arrival"
    assert len([r for r in decisions_in(arrivals) if r["decision"] == "run"]) == 1
