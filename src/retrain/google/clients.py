"""Google API clients, built one way: where each one points, which credentials it uses, and how
long each call may take.

    Endpoint.regional("aiplatform", region)        -> REGION-aiplatform.googleapis.com
    Endpoint.regional("aiplatform", region, url)   -> an override, e.g. a local fake
    gapic_client(aiplatform_v1.ModelServiceClient, endpoint)
    call(endpoint)                                  -> {"timeout": ...} for every call
    storage_client(project)                         -> google-cloud-storage

An `http://host:port` endpoint is a local stand-in (a fake or an emulator): the client then talks
REST over plain HTTP with anonymous credentials, so no test ever needs a Google account. Clients
are built when asked for, never at import time (importing aiplatform_v1 costs about a second).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

DEFAULT_TIMEOUT = 30.0  # seconds per call: a hung connection fails and is retried, not waited on

Client = TypeVar("Client")


@dataclass(frozen=True)
class Endpoint:
    """Where a service is reached (`host`) and how long one call to it may take (`timeout`)."""

    host: str
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def regional(
        cls, service: str, region: str, override: str = "", timeout: float = DEFAULT_TIMEOUT
    ) -> Endpoint:
        """`REGION-SERVICE.googleapis.com`, unless `override` names another host."""
        return cls(override or f"{region}-{service}.googleapis.com", timeout)

    @property
    def local(self) -> bool:
        """A plain-HTTP stand-in on this machine or network, not Google."""
        return self.host.startswith("http://")


def gapic_client(client_class: Callable[..., Client], endpoint: Endpoint) -> Client:
    """Any generated `google.cloud.*` client (PipelineServiceClient, ModelServiceClient, ...)."""
    from google.api_core.client_options import ClientOptions

    kwargs: dict[str, Any] = {"client_options": ClientOptions(api_endpoint=endpoint.host)}
    if endpoint.local:
        from google.auth.credentials import AnonymousCredentials

        # gRPC wants TLS to a googleapis host; the REST transport speaks plain HTTP to a fake.
        kwargs.update(transport="rest", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    return client_class(**kwargs)


def call(endpoint: Endpoint) -> dict[str, float]:
    """Keyword arguments every call takes: `client.get_model(name=..., **call(endpoint))`."""
    return {"timeout": endpoint.timeout}


def storage_client(project: str, emulator: str = "") -> Any:
    """A google-cloud-storage client. `emulator` (`http://host:port`) points it at a local GCS
    emulator with anonymous credentials; without it the library's own rules apply (it honours
    STORAGE_EMULATOR_HOST itself).

    google-cloud-storage 3.17 fetches each bucket's metadata in the background for its
    OpenTelemetry spans (`_bucket_metadata_cache.py`: `Client.get_bucket`, a buckets.get),
    even with tracing off, unless DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA is set
    (`_opentelemetry_tracing.py`). No identity of ours holds `storage.buckets.get`: every
    process would make a denied request. Turned off here (the library reads it per call)."""
    import os

    import google.cloud.storage as storage

    os.environ.setdefault("DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA", "true")

    if not emulator:
        return storage.Client(project=project)
    from google.auth.credentials import AnonymousCredentials

    return storage.Client(
        project=project,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": emulator},
    )


def firestore_client(project: str, database: str | None = None, emulator: str = "") -> Any:
    """A google-cloud-firestore client. `emulator` (`host:port`) points it at a Firestore
    emulator that the environment does not name (a stack found through `work/stack.json`);
    without it the library's own rules apply (it honours FIRESTORE_EMULATOR_HOST itself)."""
    from google.cloud import firestore

    if not emulator:
        return firestore.Client(project=project, database=database)
    from google.auth.credentials import AnonymousCredentials

    client = firestore.Client(
        project=project,
        database=database,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
    )
    # google/cloud/firestore_v1/base_client.py: `__init__` reads FIRESTORE_EMULATOR_HOST once
    # into `_emulator_host`, which alone selects the emulator's insecure channel
    # (`_firestore_api_helper` -> `_emulator_channel`) and its "Bearer owner" metadata
    # (`_rpc_metadata`). Setting it names the emulator without changing this process's env.
    client._emulator_host = emulator
    return client
