"""The model is served by the TensorFlow it was trained with: the default prediction container
(a Vertex prebuilt `tf2-cpu.MAJOR-MINOR` image) matches the pinned training TensorFlow."""

from __future__ import annotations

import re
from pathlib import Path

from retrain.delivery.config import DeployConfig

LOCK = Path(__file__).parents[2] / "pipelines" / "requirements.lock"


def test_the_serving_image_runs_the_training_tensorflow() -> None:
    pinned = re.search(r"^tensorflow==(\d+)\.(\d+)\.", LOCK.read_text(), re.MULTILINE)
    assert pinned is not None, "tensorflow is not pinned in pipelines/requirements.lock"
    image = DeployConfig(project="acme-prod").serving_image
    served = re.search(r"/tf2-(?:cpu|gpu)\.(\d+)-(\d+):", image)
    assert served is not None, f"{image} is not a prebuilt TensorFlow prediction image"
    assert served.groups() == pinned.groups(), (image, pinned.group(0))
