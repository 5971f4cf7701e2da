"""A stand-in for the Vertex Template Registry (Artifact Registry, KFP format) read side:
`GET https://REGION-kfp.pkg.dev/PROJECT/REPOSITORY/PACKAGE/TAG` answers the template's JSON,
as the SDK reads it (`google/cloud/aiplatform/utils/yaml_utils.py`
`_load_yaml_from_https_uri`). Point `RETRAIN_TEMPLATE_REGISTRY_ENDPOINT` at `endpoint`; the
URL's path is kept. `lookup` gives FakeVertex the spec a registry URI names.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from retrain.backends.pipeline_template import is_registry_url
from retrain.localstack.httpd import serve, shut


class FakeRegistry:
    def __init__(self) -> None:
        self.templates: dict[str, dict[str, Any]] = {}  # URL path -> pipeline spec
        self.reads: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_port}"

    def publish(self, uri: str, spec: dict[str, Any]) -> None:
        """Make `spec` readable at `uri` (https://REGION-kfp.pkg.dev/...)."""
        if not is_registry_url(uri):
            raise ValueError(f"{uri} is not a Template Registry URL")
        self.templates[urlsplit(uri).path] = spec

    def lookup(self, uri: str) -> dict[str, Any] | None:
        return self.templates.get(urlsplit(uri).path) if is_registry_url(uri) else None

    def start(self) -> FakeRegistry:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                del format, args

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                registry.reads.append(path)
                spec = registry.templates.get(path)
                data = json.dumps(spec if spec is not None else {"error": "not found"}).encode()
                self.send_response(200 if spec is not None else 404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = serve(Handler, "fake-registry")
        return self

    def stop(self) -> None:
        shut(self._server)
        self._server = None
