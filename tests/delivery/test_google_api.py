"""The one factory for Google API clients: endpoints, local stand-ins, per-call timeouts."""

from __future__ import annotations

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform_v1

from retrain.errors import TransientError
from retrain.google.clients import Endpoint, gapic_client
from retrain.google.model_registry import VertexModelRegistry
from tests.fakes.model_registry import FakeModelRegistry

from .helpers import config


def test_the_regional_endpoint_unless_overridden() -> None:
    regional = Endpoint.regional("aiplatform", "europe-west4")
    assert regional.host == "europe-west4-aiplatform.googleapis.com" and not regional.local
    fake = Endpoint.regional("aiplatform", "europe-west4", "http://127.0.0.1:8123", timeout=2)
    assert fake == Endpoint("http://127.0.0.1:8123", 2) and fake.local


def test_a_local_endpoint_gets_rest_and_anonymous_credentials() -> None:
    client = gapic_client(aiplatform_v1.ModelServiceClient, Endpoint("http://127.0.0.1:8123"))
    assert client.transport.kind == "rest"
    assert isinstance(client.transport._credentials, AnonymousCredentials)


def test_each_call_gives_up_after_the_endpoint_timeout(registry_fake: FakeModelRegistry) -> None:
    endpoint = Endpoint.regional("aiplatform", "us-central1", registry_fake.endpoint, timeout=0.5)
    registry_fake.delay_next(3.0)
    c = config()
    registry = VertexModelRegistry(c.project, c.region, c.serving_image, endpoint)
    with pytest.raises(TransientError, match="reading model churn"):
        registry.find_version("churn", "churn-data-1")
