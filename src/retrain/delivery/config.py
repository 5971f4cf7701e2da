"""The delivery configuration: where a deployment puts things. Built by `Settings.deploy` from
RETRAIN_* variables (Cloud Build substitutions set them) with command-line flags on top. Every
cloud name is derived here or in `names`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from retrain.errors import ConfigError
from retrain.google.resource_names import PROJECT_PATTERN, REGION_PATTERN, SHA_PATTERN

# The TensorFlow of the prediction container: the newest for which Google publishes a prebuilt
# TensorFlow prediction image, in the Vertex AI SDK's list (google/cloud/aiplatform/constants/
# prediction.py, TF_CONTAINER_URIS) and on https://cloud.google.com/vertex-ai/docs/predictions/
# pre-built-containers: 2.15. Training runs TensorFlow 2.16 (TFX 1.16, pipelines/
# requirements.lock), for which no prediction image exists; tests/integration/
# test_serving_image.py moves this up as soon as the SDK lists a newer one.
SERVING_TENSORFLOW = "2.15"


def prediction_image(region: str, tensorflow: str = SERVING_TENSORFLOW) -> str:
    """Google's prebuilt CPU TensorFlow prediction image in the multi-region of `region`, as
    the SDK's `helpers.get_prebuilt_prediction_container_uri` picks it (the region's first
    part: us, europe or asia); other regions get the us copy (each URI serves every location,
    the prebuilt-containers page says)."""
    area = region.split("-", 1)[0]
    area = area if area in ("us", "europe", "asia") else "us"
    version = tensorflow.replace(".", "-")
    return f"{area}-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.{version}:latest"


class DeployConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    project: str = Field(pattern=PROJECT_PATTERN, description="Project the service runs in.")
    region: str = Field(default="us-central1", pattern=REGION_PATTERN)
    git_sha: str = Field(default="", pattern=SHA_PATTERN)
    bucket: str = Field(
        default="",
        pattern=r"^([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])?$",
        description="Artefact bucket (no gs://); default <project>-retrain.",
    )
    image_repo: str = Field(
        default="", description="Docker repository; default REGION-docker.pkg.dev/PROJECT/retrain."
    )
    template_registry: str = Field(
        default="",
        description="Kubeflow Pipelines repository in Artifact Registry "
        "(https://REGION-kfp.pkg.dev/PROJECT/REPO); empty: templates go to GCS only.",
    )
    github_repo: str = Field(default="", pattern=r"^([\w.-]+/[\w.-]+)?$")
    github_secret: str = Field(default="retrain-github-token", pattern=r"^[A-Za-z0-9_-]{1,255}$")
    time_zone: str = "Etc/UTC"
    serving_image: str = Field(
        default="",
        description="Prediction container for models uploaded to the Model Registry; default: "
        "Google's prebuilt TensorFlow SERVING_TENSORFLOW image near the region.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_serving_image(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("serving_image"):
            return {**data, "serving_image": prediction_image(data.get("region") or "us-central1")}
        return data

    @property
    def artifact_bucket(self) -> str:
        return self.bucket or f"{self.project}-retrain"

    @property
    def docker_repo(self) -> str:
        return self.image_repo or f"{self.region}-docker.pkg.dev/{self.project}/retrain"

    def pipeline_image(self, sha: str | None = None) -> str:
        return f"{self.docker_repo}/pipelines:{sha or self.require_sha()}"

    def require_sha(self) -> str:
        if not self.git_sha:
            raise ConfigError("no git sha: pass --git-sha or set RETRAIN_GIT_SHA")
        return self.git_sha

    @property
    def pipeline_root(self) -> str:
        return f"gs://{self.artifact_bucket}/pipelines"

    @property
    def serving_root(self) -> str:
        return f"gs://{self.artifact_bucket}/serving"

    @property
    def templates_root(self) -> str:
        return f"gs://{self.artifact_bucket}/templates"

    @property
    def candidates_root(self) -> str:
        """PR candidate templates: never read by the deployed functions."""
        return f"gs://{self.artifact_bucket}/candidates"

    @property
    def pipelines_sa(self) -> str:
        return f"retrain-pipelines@{self.project}.iam.gserviceaccount.com"

    # Candidate runs (a PR's code) are kept apart from production: their own pipeline account,
    # their own image repository, and roots the CI identity may write to (infra/candidates.tf).
    @property
    def candidate_pipelines_sa(self) -> str:
        return f"retrain-candidate-runs@{self.project}.iam.gserviceaccount.com"

    @property
    def candidate_docker_repo(self) -> str:
        return f"{self.docker_repo}-candidates"

    @property
    def candidate_pipeline_root(self) -> str:
        return f"{self.pipeline_root}/candidates"

    @property
    def releases_root(self) -> str:
        return f"gs://{self.artifact_bucket}/releases"

    @property
    def history_root(self) -> str:
        return f"gs://{self.artifact_bucket}/history"

    def template_uri(self, spec: str, sha: str) -> str:
        return f"{self.templates_root}/{spec}/{sha}.json"

    @property
    def template_uri_pattern(self) -> str:
        """What the functions get as RETRAIN_TEMPLATE_URI (VertexBackend fills the fields)."""
        return f"{self.templates_root}/{{spec}}/{{git_sha}}.json"
