"""The model is served by a container that exists: Google's prebuilt TensorFlow prediction
image (issue 23, item 7), checked against the Vertex AI SDK's own list of them
(google/cloud/aiplatform/constants/prediction.py, the same list as
https://cloud.google.com/vertex-ai/docs/predictions/pre-built-containers), for the newest
TensorFlow that list has that is not newer than the training TensorFlow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from retrain.delivery.config import SERVING_TENSORFLOW, DeployConfig

LOCK = Path(__file__).parents[2] / "pipelines" / "requirements.lock"


def _version(text: str) -> tuple[int, int]:
    major, minor = text.replace("-", ".").split(".")[:2]
    return int(major), int(minor)


def _sdk_tensorflow_versions() -> set[tuple[int, int]]:
    from google.cloud.aiplatform.constants import prediction

    found = {prediction.CONTAINER_URI_PATTERN.match(uri) for uri in prediction.TF_CONTAINER_URIS}
    return {
        _version(m["version"])
        for m in found
        if m is not None and m["framework"] == "tf2" and m["accelerator"] == "cpu"
    }


def test_the_default_serving_image_is_a_prebuilt_image_the_sdk_lists() -> None:
    from google.cloud.aiplatform.constants import prediction

    image = DeployConfig(project="acme-prod").serving_image
    assert image in prediction.SERVING_CONTAINER_URIS, image


@pytest.mark.parametrize("region", ["us-central1", "europe-west4", "asia-northeast1"])
def test_the_serving_image_is_the_one_the_sdk_picks_for_the_region(region: str) -> None:
    from google.cloud.aiplatform import helpers

    expected = helpers.get_prebuilt_prediction_container_uri(
        framework="tensorflow", framework_version=SERVING_TENSORFLOW, region=region
    )
    assert DeployConfig(project="acme-prod", region=region).serving_image == expected


def test_the_serving_tensorflow_is_the_newest_prebuilt_one_not_newer_than_training() -> None:
    pinned = re.search(r"^tensorflow==(\d+\.\d+)\.", LOCK.read_text(), re.MULTILINE)
    assert pinned is not None, "tensorflow is not pinned in pipelines/requirements.lock"
    training = _version(pinned.group(1))
    served = re.search(r"/tf2-cpu\.(\d+-\d+):", DeployConfig(project="acme-prod").serving_image)
    assert served is not None
    available = [v for v in _sdk_tensorflow_versions() if v <= training]
    assert _version(served.group(1)) == max(available), (training, sorted(available))
    assert _version(served.group(1))[0] == training[0]  # TensorFlow 2 on both sides


def test_a_configured_serving_image_is_kept() -> None:
    custom = "us-central1-docker.pkg.dev/acme-prod/retrain/serving:1"
    assert DeployConfig(project="acme-prod", serving_image=custom).serving_image == custom
