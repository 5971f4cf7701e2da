"""An HTTP proxy in front of an emulator that records each request (method, path, query) with
the identity the test says is making it, so the IAM tests can derive what each identity calls
from what the code really sent. Bodies and the Authorization header are never recorded.

An upload's object name, which travels in its body, is added to the recorded query as
`name=`. URLs the upstream returns for a follow-up call (a resumable upload's `Location`) are
rewritten to the proxy, so no request goes around it.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class Request:
    account: str
    method: str
    path: str
    query: str


def _object_name(body: bytes | None) -> str:
    """`name=NAME` of an upload whose object resource travels in the body (the JSON API's
    multipart and resumable uploads: the metadata part comes first); the only part of a body
    recorded, since permissions on a prefix are checked against it."""
    if not body:
        return ""
    match = re.search(rb'\{[^{}]*"name"\s*:\s*"((?:[^"\\]|\\.)*)"', body)
    return "name=" + quote(json.loads(b'"' + match.group(1) + b'"')) if match else ""


class RecordingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.account = ""  # who the code under test runs as; set by the test
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                proxy._forward(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> RecordingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _forward(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else None
        query = url.query
        if url.path.startswith("/upload/") and "name=" not in query:
            query = "&".join(filter(None, (query, _object_name(body))))
        with self._lock:
            self.requests.append(Request(self.account, handler.command, url.path, query))
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
        connection = http.client.HTTPConnection(
            self.upstream.hostname or "", self.upstream.port, timeout=60
        )
        try:
            connection.request(handler.command, handler.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            handler.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() in _HOP:
                    continue
                if key.lower() == "location":
                    value = value.replace(
                        f"{self.upstream.scheme}://{self.upstream.netloc}", self.url
                    )
                handler.send_header(key, value)
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
        finally:
            connection.close()
