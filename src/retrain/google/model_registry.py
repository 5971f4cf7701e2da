"""The Vertex AI Model Registry through `aiplatform_v1.ModelServiceClient`: what a merged
promotion does (`retrain.delivery.promotions.promote` decides, this carries it out)."""

from __future__ import annotations

from typing import Any

from retrain.errors import NotFound
from retrain.google.clients import Endpoint, call, gapic_client
from retrain.runs import label_value
from retrain.vendor_errors import translated

UPLOAD_TIMEOUT = 600.0  # seconds: an upload is a long-running operation (copies the artefact)


class VertexModelRegistry:
    """The Model Registry through `aiplatform_v1.ModelServiceClient` (built at first use)."""

    def __init__(self, project: str, region: str, serving_image: str, endpoint: Endpoint) -> None:
        self._project = project
        self._region = region
        self._serving_image = serving_image
        self._endpoint = endpoint
        self._client_instance: Any = None

    def _client(self) -> Any:
        if self._client_instance is None:
            from google.cloud import aiplatform_v1

            self._client_instance = gapic_client(aiplatform_v1.ModelServiceClient, self._endpoint)
        return self._client_instance

    @property
    def _location(self) -> str:
        return f"projects/{self._project}/locations/{self._region}"

    def _model_name(self, model: str) -> str:
        return f"{self._location}/models/{model}"

    def _exists(self, model: str) -> bool:
        try:
            with translated(f"reading model {model}"):
                self._client().get_model(name=self._model_name(model), **call(self._endpoint))
        except NotFound:
            return False
        return True

    def find_version(self, model: str, job_id: str) -> str | None:
        if not self._exists(model):
            return None
        query = f'labels.retrain-job="{label_value(job_id)}"'
        with translated(f"listing versions of {model}"):
            pages = self._client().list_model_versions(
                request={"name": self._model_name(model), "filter": query},
                **call(self._endpoint),
            )
            versions = [str(m.version_id) for m in pages]
        return versions[0] if versions else None

    def upload(self, model: str, job_id: str, spec: str, artifact_uri: str, alias: str) -> None:
        from google.cloud import aiplatform_v1

        request = aiplatform_v1.UploadModelRequest(
            parent=self._location,
            model=aiplatform_v1.Model(
                display_name=model,
                artifact_uri=artifact_uri,
                container_spec=aiplatform_v1.ModelContainerSpec(image_uri=self._serving_image),
                version_aliases=[alias],
                labels={"retrain-spec": label_value(spec), "retrain-job": label_value(job_id)},
            ),
        )
        if self._exists(model):
            request.parent_model = self._model_name(model)
        else:
            request.model_id = model
        with translated(f"uploading {artifact_uri} as {model}"):
            operation = self._client().upload_model(request=request, **call(self._endpoint))
            operation.result(timeout=UPLOAD_TIMEOUT)

    def set_alias(self, model: str, version: str, alias: str) -> None:
        name = f"{self._model_name(model)}@{version}"
        with translated(f"alias {alias} on {name}"):
            self._client().merge_version_aliases(
                name=name, version_aliases=[alias], **call(self._endpoint)
            )
