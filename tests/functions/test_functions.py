"""The four functions through the real functions-framework test client, in structured and
binary CloudEvent modes, on a service built from in-memory ports."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from functions_framework import create_app

from retrain.completion import CompletionHandler
from retrain.errors import ConfigError
from retrain.settings import Settings
from retrain.wiring import build_service
from tests.fakes.backend import RecordingBackend
from tests.fakes.clock import FakeClock
from tests.fakes.sink import RecordingSink
from tests.routing.golden_time import GOLDEN_NOW
from tests.routing.helpers import arrival, backend_that_ran, make_service, tick

SOURCE = Path(__file__).parents[2] / "functions" / "main.py"
GOLDEN = Path(__file__).parents[1] / "golden" / "events"
PUBSUB_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"


@pytest.fixture
def client_for() -> Iterator[Any]:
    """`client_for(target)` -> (test client, the loaded functions module)."""

    def make(target: str) -> tuple[Any, ModuleType]:
        app = create_app(target, str(SOURCE), "cloudevent")  # type: ignore[no-untyped-call]
        return app.test_client(), sys.modules["main"]

    yield make
    sys.modules.pop("main", None)


def structured(data: dict[str, Any], event_id: str = "ce-1") -> dict[str, Any]:
    return {
        "headers": {"Content-Type": "application/cloudevents+json"},
        "data": json.dumps(
            {
                "specversion": "1.0",
                "type": PUBSUB_TYPE,
                "source": "//pubsub.googleapis.com/projects/acme/topics/t",
                "id": event_id,
                "datacontenttype": "application/json",
                "data": data,
            }
        ),
    }


def binary(data: dict[str, Any], event_id: str = "ce-2") -> dict[str, Any]:
    return {
        "headers": {
            "Content-Type": "application/json",
            "ce-specversion": "1.0",
            "ce-type": PUBSUB_TYPE,
            "ce-source": "//pubsub.googleapis.com/projects/acme/topics/t",
            "ce-id": event_id,
        },
        "data": json.dumps(data),
    }


@pytest.mark.parametrize("mode", [structured, binary])
def test_data_arrival_runs_once_per_write(client_for: Any, mode: Any) -> None:
    client, module = client_for("on_data_arrival")
    service, backend, log, _ = make_service()
    module.use_service(service)
    body = arrival(600, "j1")
    assert client.post("/", **mode(body)).status_code == 200
    assert client.post("/", **mode(body)).status_code == 200  # redelivery
    assert [d.decision for d in log.decisions] == ["run", "deduplicated"]
    assert len(backend.jobs) == 1


def test_malformed_messages_are_acknowledged_and_rejected(client_for: Any) -> None:
    client, module = client_for("on_data_arrival")
    service, backend, log, _ = make_service()
    module.use_service(service)
    bad = {"message": {"data": base64.b64encode(b"\x00\xff").decode(), "messageId": "7"}}
    response = client.post("/", **structured(bad))
    assert response.status_code == 200
    assert [(d.decision, d.event_id) for d in log.decisions] == [("rejected", "ce-1")]
    assert backend.calls == []


def test_transient_backend_error_is_a_500_so_pubsub_redelivers(client_for: Any) -> None:
    client, module = client_for("on_data_arrival")
    service, backend, log, _ = make_service(backend=RecordingBackend(transient_failures=1))
    module.use_service(service)
    body = arrival(600, "j1")
    assert client.post("/", **binary(body)).status_code == 500
    assert client.post("/", **binary(body)).status_code == 200
    assert [d.decision for d in log.decisions] == ["run"] and len(backend.jobs) == 1


@pytest.mark.parametrize("mode", [structured, binary])
def test_drift_alert(client_for: Any, mode: Any) -> None:
    client, module = client_for("on_drift_alert")
    service, backend, log, _ = make_service(clock=FakeClock(GOLDEN_NOW))  # after the alert
    module.use_service(service)
    body = json.loads((GOLDEN / "monitoring_anomaly.json").read_text())
    assert client.post("/", **mode(body)).status_code == 200
    assert [(d.decision, d.spec) for d in log.decisions] == [("run", "churn")]
    assert next(iter(backend.jobs.values())).trigger == "drift"


@pytest.mark.parametrize("mode", [structured, binary])
def test_run_complete_hands_the_outcome_to_the_sink(client_for: Any, mode: Any) -> None:
    client, module = client_for("on_run_complete")
    sink = RecordingSink()
    ran = backend_that_ran(GOLDEN / "pipeline_succeeded.json")
    service, _, log, _ = make_service(sink=sink, backend=ran)
    module.use_service(service)
    body = json.loads((GOLDEN / "pipeline_succeeded.json").read_text())
    assert client.post("/", **mode(body)).status_code == 200
    assert [d.decision for d in log.decisions] == ["completed"]
    (outcome,) = sink.outcomes
    assert (outcome.spec, outcome.state, outcome.trigger, outcome.pr_number) == (
        "churn",
        "succeeded",
        "pull_request",
        42,
    )
    assert outcome.pipeline_root == "gs://acme-ml-pipelines/root/churn"


@pytest.mark.parametrize("mode", [structured, binary])
def test_schedule_tick_runs_once_however_often_it_is_delivered(client_for: Any, mode: Any) -> None:
    client, module = client_for("on_schedule")
    service, backend, log, _ = make_service()
    module.use_service(service)
    body = json.loads((GOLDEN / "schedule_tick.json").read_text())
    retry = json.loads((GOLDEN / "schedule_tick_retry.json").read_text())  # Scheduler retried
    for delivery in (body, body, retry):
        assert client.post("/", **mode(delivery)).status_code == 200
    assert [d.decision for d in log.decisions] == ["run", "deduplicated", "deduplicated"]
    assert {d.job_id for d in log.decisions} == set(backend.jobs)
    (request,) = backend.jobs.values()
    assert (request.spec, request.trigger) == ("churn", "schedule")


def test_malformed_and_stale_ticks_are_acknowledged(client_for: Any) -> None:
    client, module = client_for("on_schedule")
    service, backend, log, _ = make_service()
    module.use_service(service)
    malformed = json.loads((GOLDEN / "malformed_schedule_tick.json").read_text())
    assert client.post("/", **structured(malformed)).status_code == 200
    assert client.post("/", **binary(tick(spec="fraud"))).status_code == 200
    assert [d.decision for d in log.decisions] == ["rejected", "ignored"]
    assert backend.calls == []


def test_run_complete_fills_missing_labels_from_the_backend() -> None:
    backend = RecordingBackend()
    service, _, _, sink = make_service(backend=backend)
    service.handle("data_arrival", arrival(600, "j1"))
    (job_id,) = backend.jobs
    backend.finish(job_id)  # the backend's state is the truth: the job must have ended
    entry = json.loads((GOLDEN / "pipeline_foreign.json").read_text())
    entry["resource"]["labels"]["pipeline_job_id"] = job_id
    entry["jsonPayload"]["labels"] = {}
    decisions = service.handle("run_complete", entry)
    assert [d.decision for d in decisions] == ["completed"]
    assert sink.outcomes[0].trigger == "data_arrival"
    assert sink.outcomes[0].pipeline_root == "/runs/churn"


def test_settings_are_validated_at_first_use_not_import(
    client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETRAIN_BACKEND", "cloud")
    _, module = client_for("on_data_arrival")  # importing succeeds
    module.use_service(None)
    with pytest.raises(ConfigError, match="RETRAIN_BACKEND"):
        module.service()
    needs = "RETRAIN_TEMPLATE_URI, RETRAIN_PIPELINE_ROOT, RETRAIN_GIT_SHA"
    with pytest.raises(ConfigError, match=needs):
        Settings.from_env({"RETRAIN_BACKEND": "vertex"})


def test_the_wired_sink_is_the_completion_handler(tmp_path: Path) -> None:
    service = build_service(Settings.from_env({"RETRAIN_STATE": "memory"}))
    assert isinstance(service.sink(), CompletionHandler)


def test_build_service_wires_memory_state_and_local_backend(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "RETRAIN_STATE": "memory",
            "RETRAIN_SPECS_DIR": str(GOLDEN / "specs"),
            "RETRAIN_WORKDIR": str(tmp_path),
        }
    )
    service = build_service(settings)
    assert type(service.backend).__name__ == "LocalBackend"
    assert type(service.store).__name__ == "MemoryStore"
    assert len(service.index()) == 2
