"""Compiled pipeline templates as Vertex takes them: where a template may come from, and the
runtime config its schema version asks for. Pure: the bytes are read by `TemplateReader`.

Rules (from the SDK, `google/cloud/aiplatform/pipeline_jobs.py` `PipelineJob.__init__`, and
`utils/pipeline_utils.py` `PipelineRuntimeConfigBuilder`):
- the job always carries the compiled spec inline (`pipelineSpec`); `templateUri` is added
  only for a Vertex Template Registry (Artifact Registry) URL: the v1 API downloads nothing
  from gs://;
- a template of `schemaVersion` <= 2.0.0 (what TFX 1.16 compiles) takes typed `Value`s under
  `runtimeConfig.parameters`; a newer one takes plain values under `parameterValues`;
- every value must name one of the template's root input parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from retrain.errors import BackendError

# google/cloud/aiplatform/constants/pipeline.py `_VALID_AR_URL`
AR_URL = re.compile(r"^https://([\w-]+)-kfp\.pkg\.dev/.*", re.IGNORECASE)
# The last schema version whose runtime parameters are typed Values (pipeline_utils.build).
LAST_TYPED_SCHEMA = (2, 0, 0)
# Legacy `type` of a root input (schema <= 2.0.0) -> the Value field that carries it
# (pipeline_utils `_get_vertex_value`).
TYPED_VALUE_FIELD = {"INT": "intValue", "DOUBLE": "doubleValue", "STRING": "stringValue"}


class CompiledTemplate(BaseModel):
    """The parts of a compiled template a run request depends on."""

    model_config = ConfigDict(frozen=True)

    uri: str
    pipeline_spec: dict[str, Any]
    schema_version: str
    parameter_types: dict[str, str]

    @property
    def typed_parameters(self) -> bool:
        return schema_tuple(self.schema_version, self.uri) <= LAST_TYPED_SCHEMA


def is_registry_url(uri: str) -> bool:
    return AR_URL.match(uri) is not None


def schema_tuple(version: str, uri: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        raise BackendError(f"{uri}: schemaVersion {version!r} is not a version") from None


def parse_template(raw: bytes, uri: str) -> CompiledTemplate:
    """A compiled template: a PipelineJob JSON (what KubeflowV2DagRunner writes, the spec under
    `pipelineSpec`) or the bare pipeline spec (what template registries and our GCS releases
    hold). BackendError naming the template when it is neither."""
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackendError(f"{uri}: the pipeline template is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise BackendError(f"{uri}: the pipeline template is not a JSON object")
    spec = document.get("pipelineSpec", document)
    if not isinstance(spec, dict) or not isinstance(spec.get("root"), dict):
        raise BackendError(f"{uri}: not a compiled pipeline (no pipelineSpec.root)")
    version = spec.get("schemaVersion")
    if not isinstance(version, str):
        raise BackendError(f"{uri}: the pipeline spec has no schemaVersion")
    schema_tuple(version, uri)
    inputs = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    if not isinstance(inputs, dict):
        raise BackendError(f"{uri}: root.inputDefinitions.parameters is not an object")
    types = {}
    for name, definition in inputs.items():
        kind = None
        if isinstance(definition, dict):
            kind = definition.get("parameterType") or definition.get("type")
        if not isinstance(kind, str):
            raise BackendError(f"{uri}: root input {name!r} has no type")
        types[str(name)] = kind
    return CompiledTemplate(
        uri=uri, pipeline_spec=spec, schema_version=version, parameter_types=types
    )


def runtime_config(
    template: CompiledTemplate, pipeline_root: str, values: Mapping[str, str]
) -> dict[str, Any]:
    """`PipelineJob.runtimeConfig` as REST JSON, the way the SDK's builder writes it for the
    same template and values. Our runtime parameters are all strings."""
    # A value newer than the template (an older template, compiled before its parameter
    # existed) is dropped when empty, refused when it says something the run would lose.
    values = {k: v for k, v in values.items() if k in template.parameter_types or v}
    unknown = sorted(set(values) - set(template.parameter_types))
    if unknown:
        raise BackendError(
            f"{template.uri}: the template has no runtime parameter {', '.join(unknown)} "
            f"(it takes {', '.join(sorted(template.parameter_types)) or 'none'}); "
            "recompile it with this version of retrain"
        )
    if template.typed_parameters:
        parameters: dict[str, Any] = {}
        for name, value in values.items():
            field = TYPED_VALUE_FIELD.get(template.parameter_types[name])
            if field != "stringValue":
                raise BackendError(
                    f"{template.uri}: runtime parameter {name!r} is "
                    f"{template.parameter_types[name]}, retrain passes strings"
                )
            parameters[name] = {field: value}
        key = "parameters"
    else:
        for name in values:
            if template.parameter_types[name] != "STRING":
                raise BackendError(
                    f"{template.uri}: runtime parameter {name!r} is "
                    f"{template.parameter_types[name]}, retrain passes strings"
                )
        parameters, key = dict(values), "parameterValues"
    return {"gcsOutputDirectory": pipeline_root, key: parameters, "inputArtifacts": {}}
