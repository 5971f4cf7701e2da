"""The PipelineJob request against the documented contract: the same runtime config as the
SDK's own builder, the template inline (gs://) or by registry URL, and a fake that refuses
what Vertex refuses (each rule is sourced in retrain.localstack.fake_vertex)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from retrain.backends.pipeline_template import parse_template, runtime_config
from retrain.errors import BackendError
from retrain.google.vertex import VertexBackend
from retrain.localstack.fake_vertex import FakeVertex, refusal
from tests.fakes.templates import MemoryTemplates, compiled, newer_schema
from tests.integration.test_vertex_backend import REQUEST

GCS = "gs://acme-ml/templates/{spec}/{git_sha}.json"
REGISTRY = "https://europe-west4-kfp.pkg.dev/acme/retrain-templates/{spec}/{git_sha}"
ROOT = "gs://acme-ml/root/churn"


def backend(vertex_fake: FakeVertex, pattern: str, spec: dict[str, Any]) -> VertexBackend:
    uri = pattern.format(spec=REQUEST.spec, git_sha=REQUEST.git_sha)
    return VertexBackend(
        project="acme-analytics",
        region="europe-west4",
        template_uri=pattern,
        templates=MemoryTemplates({uri: spec}),
        pipeline_root="gs://acme-ml/root",
        service_account="retrain-pipelines@acme-analytics.iam.gserviceaccount.com",
        api_endpoint=vertex_fake.endpoint,
        sleep=lambda _: None,
    )


def sdk_runtime_config(spec: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """What the SDK sends for this template and these values (pipeline_jobs.py builds it so)."""
    from google.cloud.aiplatform.utils.pipeline_utils import PipelineRuntimeConfigBuilder

    builder = PipelineRuntimeConfigBuilder.from_job_spec_json(
        {"pipelineSpec": spec, "runtimeConfig": {}}
    )
    builder.update_pipeline_root(ROOT)
    builder.update_runtime_parameters(values)
    built: dict[str, Any] = builder.build()
    return built


def on_the_wire(config: dict[str, Any]) -> dict[str, Any]:
    """A runtime config as the REST transport serialises it (empty maps dropped)."""
    from google.cloud import aiplatform_v1
    from google.protobuf import json_format

    message = aiplatform_v1.PipelineJob.RuntimeConfig()._pb
    json_format.ParseDict(config, message)
    wire: dict[str, Any] = json_format.MessageToDict(message)
    return wire


@pytest.mark.parametrize("spec", [compiled(), newer_schema()], ids=["schema-2.0.0", "schema-2.1.0"])
def test_runtime_config_equals_the_sdk_builders(
    vertex_fake: FakeVertex, spec: dict[str, Any]
) -> None:
    expected = sdk_runtime_config(spec, REQUEST.parameters())
    template = parse_template(json.dumps(spec).encode(), "gs://t.json")
    assert runtime_config(template, ROOT, REQUEST.parameters()) == expected
    assert backend(vertex_fake, GCS, spec).submit(REQUEST) is True
    (call,) = vertex_fake.requests
    assert (call.body or {})["runtimeConfig"] == on_the_wire(expected)


def test_a_gcs_template_is_sent_inline_without_a_template_uri(vertex_fake: FakeVertex) -> None:
    assert backend(vertex_fake, GCS, compiled()).submit(REQUEST) is True
    body = vertex_fake.requests[0].body or {}
    assert "templateUri" not in body
    assert body["pipelineSpec"] == compiled()


def test_a_registry_template_is_sent_inline_and_by_url(vertex_fake: FakeVertex) -> None:
    assert backend(vertex_fake, REGISTRY, compiled()).submit(REQUEST) is True
    body = vertex_fake.requests[0].body or {}
    assert body["templateUri"] == REGISTRY.format(spec="churn", git_sha=REQUEST.git_sha)
    assert body["pipelineSpec"] == compiled()


def test_a_template_without_our_parameters_is_refused_before_vertex(
    vertex_fake: FakeVertex,
) -> None:
    old = copy.deepcopy(compiled())
    del old["root"]["inputDefinitions"]["parameters"]["data_window"]
    with pytest.raises(BackendError, match=r"gs://acme-ml/templates/churn/.*no runtime parameter"):
        backend(vertex_fake, GCS, old).submit(REQUEST)
    assert vertex_fake.requests == []


def test_a_template_that_is_not_a_pipeline_is_refused() -> None:
    with pytest.raises(BackendError, match=r"t\.json: not a compiled pipeline"):
        parse_template(b'{"displayName": "x"}', "t.json")
    with pytest.raises(BackendError, match=r"t\.json: the pipeline template is not JSON"):
        parse_template(b"<html>", "t.json")


# -- the fake refuses what Vertex refuses -------------------------------------------------------


def good_body() -> dict[str, Any]:
    return {
        "displayName": REQUEST.job_id,
        "pipelineSpec": compiled(),
        "labels": REQUEST.labels(),
        "runtimeConfig": {
            "gcsOutputDirectory": ROOT,
            "parameters": {k: {"stringValue": v} for k, v in REQUEST.parameters().items()},
        },
        "serviceAccount": "retrain-pipelines@acme-analytics.iam.gserviceaccount.com",
    }


def _without(key: str) -> Any:
    def edit(body: dict[str, Any]) -> None:
        del body[key]

    return edit


REFUSED = {
    # what the adapter sent before: a gs:// template URI, plain parameter values
    "gcs-template-uri": (
        lambda b: b.update(templateUri="gs://acme-ml/t.json"),
        "not a Vertex Template Registry URI",
    ),
    "no-spec": (_without("pipelineSpec"), "pipelineSpec is required"),
    "parameter-values-for-2.0.0": (
        lambda b: b["runtimeConfig"].update(parameterValues={"run_id": "x"}),
        "parameterValues is not supported for pipelineSpec.schemaVersion 2.0.0",
    ),
    "unknown-parameter": (
        lambda b: b["runtimeConfig"]["parameters"].update(epochs={"stringValue": "3"}),
        "'epochs' is not an input",
    ),
    "untyped-value": (
        lambda b: b["runtimeConfig"]["parameters"].update(run_id={"intValue": "3"}),
        "must be a Value with stringValue",
    ),
    "label-key": (lambda b: b["labels"].update({"Retrain": "x"}), "label key 'Retrain'"),
    "label-value": (lambda b: b["labels"].update(spec="a" * 64), "label value"),
    "service-account": (
        lambda b: b.update(serviceAccount="retrain-pipelines"),
        "not a service account email",
    ),
    "no-root": (
        lambda b: b["runtimeConfig"].update(gcsOutputDirectory="/tmp/root"),
        "must be a gs:// path",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_fake_refuses_what_vertex_refuses(case: str) -> None:
    edit, message = REFUSED[case]
    body = good_body()
    assert refusal(REQUEST.job_id, body) == ""
    edit(body)
    assert message in refusal(REQUEST.job_id, body)


def test_the_fake_takes_the_compute_default_account() -> None:
    body = good_body()
    body["serviceAccount"] = "123456789012-compute@developer.gserviceaccount.com"
    assert refusal(REQUEST.job_id, body) == ""


def test_the_fake_refuses_job_ids_outside_the_pattern() -> None:
    for job_id in ("Churn-1", "1churn", "churn_1", "c" * 129):
        assert "must match" in refusal(job_id, good_body())


def test_a_parameter_of_another_type_is_refused_before_vertex(vertex_fake: FakeVertex) -> None:
    new = newer_schema()
    new["root"]["inputDefinitions"]["parameters"]["run_id"]["parameterType"] = "NUMBER_INTEGER"
    with pytest.raises(BackendError, match=r"run_id.*NUMBER_INTEGER"):
        backend(vertex_fake, GCS, new).submit(REQUEST)
    assert vertex_fake.requests == []


def test_a_refusal_reaches_the_adapter_as_a_backend_error(vertex_fake: FakeVertex) -> None:
    vertex = backend(vertex_fake, GCS, compiled())
    vertex._service_account = "retrain-pipelines"  # not an email: Vertex answers 400
    with pytest.raises(BackendError, match="not a service account email"):
        vertex.submit(REQUEST)
    # refused for good: not retried
    assert vertex_fake.jobs == {} and len(vertex_fake.requests) == 1


def test_a_registry_uri_alone_runs_the_registrys_spec() -> None:
    uri = REGISTRY.format(spec="churn", git_sha=REQUEST.git_sha)
    body = good_body()
    del body["pipelineSpec"]
    body["templateUri"] = uri
    assert "no such template" in refusal(REQUEST.job_id, body, lambda u: None)
    assert refusal(REQUEST.job_id, body, {uri: compiled()}.get) == ""
