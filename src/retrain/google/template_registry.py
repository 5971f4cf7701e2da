"""Reading compiled templates where they are published: gs:// through `retrain.google.storage`
(google-cloud-storage), Artifact Registry URLs over HTTPS with the service's own credentials
(what the SDK's `utils/yaml_utils.py` `_load_yaml_from_https_uri` does).

`registry_endpoint` (`http://host:port`) sends registry reads to a local stand-in instead of
`https://REGION-kfp.pkg.dev`, keeping the URL's path, without credentials.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlsplit

from retrain.backends.pipeline_template import is_registry_url
from retrain.blobs import ObjectStore
from retrain.errors import BackendError, NotFound, TransientError
from retrain.google.clients import DEFAULT_TIMEOUT, storage_client
from retrain.google.storage import GcsStorage
from retrain.vendor_errors import TRANSIENT_STATUSES, translated

SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class TemplateReader(Protocol):
    def read(self, uri: str) -> bytes:
        """The template's bytes; BackendError when it is missing or refused."""
        ...


class Templates:
    def __init__(
        self,
        project: str,
        storage: ObjectStore | None = None,
        registry_endpoint: str = "",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._storage = storage or GcsStorage(lambda: storage_client(project), timeout)
        self._registry_endpoint = registry_endpoint.rstrip("/")
        self._timeout = timeout
        self._session: Any = None

    def read(self, uri: str) -> bytes:
        if uri.startswith("gs://"):
            try:
                return self._storage.read_bytes(uri)
            except NotFound as exc:
                raise BackendError(f"pipeline template {uri}: not found") from exc
        if is_registry_url(uri):
            return self._registry(uri)
        raise BackendError(
            f"pipeline template {uri}: neither gs:// nor an Artifact Registry URL "
            "(https://REGION-kfp.pkg.dev/PROJECT/REPOSITORY/PACKAGE/TAG)"
        )

    def _registry(self, uri: str) -> bytes:
        url = uri
        if self._registry_endpoint:
            parts = urlsplit(uri)
            url = f"{self._registry_endpoint}{parts.path}"
        with translated(f"pipeline template {uri}"):
            answer = self._http().get(url, timeout=self._timeout)
        status = int(answer.status_code)
        if status in TRANSIENT_STATUSES:
            raise TransientError(f"pipeline template {uri}: registry answered {status}")
        if status != 200:
            denied = (
                " (access denied: the account needs artifactregistry.reader)"
                if status
                in (
                    401,
                    403,
                )
                else ""
            )
            raise BackendError(f"pipeline template {uri}: registry answered {status}{denied}")
        data: bytes = answer.content
        return data

    def _http(self) -> Any:
        if self._session is None:
            if self._registry_endpoint:
                import requests

                self._session = requests.Session()
            else:
                import google.auth
                from google.auth.transport.requests import AuthorizedSession

                with translated("Google credentials"):
                    credentials, _ = google.auth.default(scopes=[SCOPE])
                self._session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
        return self._session
