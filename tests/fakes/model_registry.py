"""A small stateful fake of the Vertex AI v1 REST API for the Model Registry: GetModel,
ListModelVersions, UploadModel and MergeVersionAliases.

The real `aiplatform_v1.ModelServiceClient` (REST transport) talks to it, so every request is
serialised by the client library. Routes are those of the generated REST transport
(`aiplatform_v1/services/model_service/transports/rest_base.py`); field rules are cited where
they are enforced. Recording (never the Authorization header) and fault injection come from
`FakeVertex`, whose PipelineJob routes it still answers.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from retrain.localstack.fake_vertex import FakeVertex, _error

# rest_base.py: GET /v1/{name=projects/*/locations/*/models/*}, GET ...:listVersions,
# POST ...:mergeVersionAliases, POST /v1/{parent=projects/*/locations/*}/models:upload.
_MODEL = re.compile(
    r"^/v1/(projects/[^/]+/locations/[^/]+)/models/([^/:@]+)(?:@([^/:]+))?(?::(\w+))?$"
)
_UPLOAD = re.compile(r"^/v1/(projects/[^/]+/locations/[^/]+)/models:upload$")
# types/model_service.py UploadModelRequest.model_id: up to 63 characters of [a-z0-9_-], the
# first not a number or hyphen.
_MODEL_ID = re.compile(r"^[a-z_][a-z0-9_-]{0,62}$")
# types/model.py Model.version_aliases: "[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]"; the same pattern in
# MergeVersionAliasesRequest.version_aliases, where a leading "-" removes the alias.
_ALIAS = re.compile(r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$")
# types/model.py Model.labels: keys and values at most 64 characters of lowercase letters,
# digits, underscores and dashes.
_LABEL = re.compile(r"^[a-z0-9_-]{0,64}$")
# types/model_service.py ListModelVersionsRequest.filter: `labels.key=value` (value quoted or
# not); that is the only form this fake answers, anything else is refused rather than ignored.
_FILTER = re.compile(r'^labels\.([a-z0-9_-]+)\s*=\s*"?([^"]*)"?$')
DEFAULT_ALIAS = "default"


class _Refusal(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class FakeModelRegistry(FakeVertex):
    """The PipelineJob fake's server (recording, injected faults) answering the ModelService
    routes too. Start with `start()`, stop with `stop()`; point the client at `endpoint`."""

    def __init__(self) -> None:
        super().__init__()
        self.models: dict[str, list[dict[str, Any]]] = {}  # full model name -> versions

    def aliases(self, model_name: str) -> dict[str, list[str]]:
        """version id -> its aliases."""
        return {v["versionId"]: v["versionAliases"] for v in self.models.get(model_name, [])}

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, dict[str, Any]]:
        path = unquote(path)
        if "/models" not in path:
            return super()._answer(method, path, query, body)
        try:
            return 200, self._models(method, path, query, body)
        except _Refusal as refusal:
            return _error(refusal.code, str(refusal))

    def _models(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> dict[str, Any]:
        upload = _UPLOAD.match(path)
        if method == "POST" and upload:
            return self._upload(upload.group(1), body if isinstance(body, dict) else {})
        match = _MODEL.match(path)
        if match is None:
            raise _Refusal(404, f"no route {method} {path}")
        location, model_id, version, verb = match.groups()
        name = f"{location}/models/{model_id}"
        versions = self.models.get(name)
        if versions is None:
            raise _Refusal(404, f"Model {name} not found")
        if method == "GET" and verb is None:
            return self._version(name, versions, version)
        if method == "GET" and verb == "listVersions":
            return {"models": self._filtered(versions, (query.get("filter") or [""])[0])}
        if method == "POST" and verb == "mergeVersionAliases":
            # MergeVersionAliasesRequest.name: "with a version ID explicitly included".
            if version is None:
                raise _Refusal(400, "name must name a version: MODEL@VERSION")
            target = self._version(name, versions, version)
            self._merge(versions, target, (body or {}).get("versionAliases", []))
            return target
        raise _Refusal(404, f"no route {method} {path}")

    def _version(
        self, name: str, versions: list[dict[str, Any]], version: str | None
    ) -> dict[str, Any]:
        # Model.version_aliases: a model is referenced through `@version_id` or `@alias`; without
        # either, through its default version.
        wanted = version or DEFAULT_ALIAS
        for v in versions:
            if v["versionId"] == wanted or wanted in v["versionAliases"]:
                return v
        raise _Refusal(404, f"Model {name}@{wanted} not found")

    def _filtered(self, versions: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
        if not text:
            return versions
        match = _FILTER.match(text.strip())
        if match is None:
            raise _Refusal(400, f"unsupported filter: {text}")
        key, value = match.groups()
        return [v for v in versions if v.get("labels", {}).get(key) == value]

    def _upload(self, location: str, request: dict[str, Any]) -> dict[str, Any]:
        model = request.get("model")
        if not isinstance(model, dict):
            raise _Refusal(400, "model is required")  # UploadModelRequest.model: Required
        if not model.get("displayName"):
            raise _Refusal(400, "model.display_name is required")  # Model.display_name: Required
        # Model.container_spec: not required for AutoML models only; a model with an artefact
        # directory is a custom model and needs its serving container.
        if model.get("artifactUri") and not (model.get("containerSpec") or {}).get("imageUri"):
            raise _Refusal(400, "model.container_spec.image_uri is required")
        for key, value in (model.get("labels") or {}).items():
            if not (key and _LABEL.match(key) and _LABEL.match(value)):
                raise _Refusal(400, f"invalid label {key}={value}")
        aliases = list(model.get("versionAliases") or [])
        for alias in aliases:
            if not _ALIAS.match(alias):
                raise _Refusal(400, f"invalid version alias {alias!r}")
        parent = request.get("parentModel", "")
        if parent:
            # UploadModelRequest.parent_model: "the model into which to upload the version".
            versions = self.models.get(parent)
            if versions is None:
                raise _Refusal(404, f"parent model {parent} not found")
            name = parent
        else:
            model_id = request.get("modelId", "")
            if model_id and not _MODEL_ID.match(model_id):
                raise _Refusal(400, f"invalid model id {model_id!r}")
            name = f"{location}/models/{model_id or len(self.models) + 1}"
            if name in self.models:  # model_id "will become the final component of the name"
                raise _Refusal(409, f"Model {name} already exists")
            versions = self.models[name] = []
            # aiplatform/models.py Model.upload: "New model uploads, i.e. version 1, will always
            # be 'default' aliased."
            if DEFAULT_ALIAS not in aliases:
                aliases.append(DEFAULT_ALIAS)
        version_id = str(len(versions) + 1)
        stored = {
            **model,
            "name": name,
            "versionId": version_id,
            "versionAliases": [],
        }
        versions.append(stored)
        self._merge(versions, stored, aliases)
        # UploadModel is a long-running operation; this one is done at once, with an
        # UploadModelResponse (types/model_service.py) as its result.
        return {
            "name": f"{name}/operations/{len(self.requests)}",
            "done": True,
            "response": {
                "@type": "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse",
                "model": name,
                "modelVersionId": version_id,
            },
        }

    def _merge(
        self, versions: list[dict[str, Any]], target: dict[str, Any], changes: list[str]
    ) -> None:
        for change in changes:
            alias = change.removeprefix("-")
            if not _ALIAS.match(alias):
                raise _Refusal(400, f"invalid version alias {change!r}")
            if change.startswith("-"):
                # Model.version_aliases: "there must be exactly one default version alias".
                if alias == DEFAULT_ALIAS:
                    raise _Refusal(400, "the default alias cannot be removed")
                if alias in target["versionAliases"]:
                    target["versionAliases"].remove(alias)
                continue
            # An alias names one version of a model (Model.version_aliases: `model@alias`
            # references a version), so giving it to this one takes it from any other
            # (aiplatform/models.py Model.upload: the "default" alias "will be moved").
            for other in versions:
                if alias in other["versionAliases"]:
                    other["versionAliases"].remove(alias)
            target["versionAliases"].append(alias)
