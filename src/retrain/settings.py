"""Every setting retrain takes from its environment, in one model: the only reader of os.environ.

Each field is one variable, `RETRAIN_<FIELD>` (`github_token` is `RETRAIN_GITHUB_TOKEN`); where
GitHub Actions already sets the value (`GITHUB_TOKEN`, `GITHUB_REPOSITORY`, `GITHUB_API_URL`),
that variable is the fallback. Settings are built once per process, never at import, and passed
down: `functions/main.py` builds them when the first event arrives, the CLI once per command
after parsing its arguments, so a bad value is one clear ConfigError ("invalid settings:
RETRAIN_X: ...") instead of an import crash. Nothing else reads them from the environment.

What only one code path needs is checked where that path starts, in the same format:
`Settings` checks the service's own needs (a Vertex backend needs a template and a root),
`github()` the credentials of the GitHub code host, `deploy()` the delivery configuration.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from retrain.codehost.config import GITHUB_API_URL, GitHubSettings, owner_repo
from retrain.delivery.config import DeployConfig
from retrain.errors import ConfigError
from retrain.google.resource_names import PROJECT_PATTERN, REGION_PATTERN, SHA_PATTERN

PREFIX = "RETRAIN_"
# field -> the variable GitHub Actions sets for the same value, read when RETRAIN_<FIELD> is unset
FALLBACKS = {
    "github_repo": "GITHUB_REPOSITORY",
    "github_api_url": "GITHUB_API_URL",
    "github_token": "GITHUB_TOKEN",
    "firestore_emulator_host": "FIRESTORE_EMULATOR_HOST",
}
TRUE = ("1", "true", "yes")


def variable(field: str) -> str:
    return PREFIX + field.upper()


def invalid(exc: ValidationError, fields: Mapping[str, str] | None = None) -> ConfigError:
    """One format for every settings error, naming the variable; `fields` maps a model's field
    to the settings field it came from. The value is never echoed: it may be a secret."""
    fields = fields or {}
    problems = "; ".join(
        f"{variable(fields.get(str(e['loc'][0]), str(e['loc'][0]))) if e['loc'] else 'settings'}"
        f": {e['msg']}"
        for e in exc.errors()
    )
    return ConfigError(f"invalid settings: {problems}")


class Settings(BaseModel):
    """All RETRAIN_* variables. Defaults suit the local stack; delivery sets the cloud ones."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- shared ---------------------------------------------------------------------------------
    project: str = Field(default="retrain-local", pattern=PROJECT_PATTERN)
    region: str = Field(default="us-central1", pattern=REGION_PATTERN)
    git_sha: str = Field(default="", pattern=SHA_PATTERN, description="Deployed commit.")
    specs_dir: Path = Field(default=Path("specs"), description="Directory of spec YAML files.")
    workdir: Path = Field(default=Path("work"), description="Local runs and local code host.")
    repo_root: Path | None = Field(default=None, description="Default: found from the cwd.")
    pipeline_root: str = Field(default="", description="Where runs write (gs:// on Vertex).")
    dry_run: bool = Field(default=False, description="Delivery: print the plan, apply nothing.")
    # -- the service (functions) ----------------------------------------------------------------
    backend: Literal["local", "vertex"] = "local"
    state: Literal["firestore", "memory"] = Field(
        default="firestore", description="memory is for a single local process only."
    )
    state_prefix: str = Field(default="retrain", pattern=r"^[a-z][a-z0-9-]{0,40}$")
    claim_lease_seconds: int = Field(
        default=120,
        ge=1,
        le=3600,
        description="How long a claimed run's delivery alone may submit it before another "
        "takes over (longer than the data function's timeout; shorter only in tests).",
    )
    firestore_emulator_host: str = Field(
        default="", description="Set by `retrain up`; reports read the local stack's state there."
    )
    completion_topic: str = "retrain-run-complete"
    drift_topic: str = Field(
        default="",
        description="Where finished runs publish their data anomalies as drift alerts "
        "(the topic on_drift_alert reads); empty: not published.",
    )
    local_run_command: str = Field(default="", description="Default: this Python's `retrain run`.")
    vertex_endpoint: str = Field(
        default="", description="api_endpoint override (tests: http://...)."
    )
    template_uri: str = Field(
        default="",
        description="gs://... or https://REGION-kfp.pkg.dev/...; may hold {spec}, {spec_version},"
        " {git_sha}.",
    )
    template_registry_endpoint: str = Field(
        default="", description="Template Registry reads go here instead (tests: http://...)."
    )
    service_account: str = ""
    # -- completion: where comments and promotion PRs go -----------------------------------------
    codehost: Literal["github", "local", ""] = Field(
        default="", description="Default: github when a repository is set, else local."
    )
    base_branch: str = "main"
    history_uri: str = Field(default="", description="Default: <pipeline_root>/history.")
    github_repo: str = ""
    github_api_url: str = GITHUB_API_URL
    github_token: SecretStr | None = None
    github_app_id: str = ""
    github_app_installation_id: str = ""
    github_app_private_key: SecretStr | None = None
    github_app_private_key_file: Path | None = None
    github_bot_login: str = ""
    # -- delivery (Cloud Build) -----------------------------------------------------------------
    artifact_bucket: str = Field(
        default="",
        pattern=r"^([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])?$",
        description="Artefact bucket (no gs://); default <project>-retrain.",
    )
    image_repo: str = ""
    template_registry: str = ""
    github_secret: str = Field(default="retrain-github-token", pattern=r"^[A-Za-z0-9_-]{1,255}$")
    schedule_time_zone: str = "Etc/UTC"
    serving_image: str = ""
    # -- pipelines (compile and local runs) -----------------------------------------------------
    serving_root: str = Field(
        default="", description="Where models are pushed; promotions only propose models there."
    )
    pipeline_image: str = ""
    pipelines_python: Path | None = Field(
        default=None, description="Python 3.10 with TFX; default .venv-pipelines/bin/python."
    )

    _github_repo = field_validator("github_repo")(owner_repo)

    @model_validator(mode="before")
    @classmethod
    def _flags(cls, values: Any) -> Any:
        if isinstance(values, dict) and isinstance(values.get("dry_run"), str):
            values = {**values, "dry_run": values["dry_run"].strip().lower() in TRUE}
        return values

    @model_validator(mode="after")
    def _vertex_needs(self) -> Settings:
        if self.backend == "vertex":
            missing = [
                n
                # service_account: the identity production runs as; a finished run is trusted
                # as production only when Vertex says it ran as it (ProductionRuns).
                for n in (
                    "template_uri",
                    "pipeline_root",
                    "git_sha",
                    "serving_root",
                    "service_account",
                )
                if not getattr(self, n)
            ]
            if missing:
                names = ", ".join(variable(n) for n in missing)
                raise ValueError(f"RETRAIN_BACKEND=vertex needs {names}")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Empty variables count as unset (Cloud Build substitutions are often empty)."""
        values: dict[str, str] = {}
        for name in cls.model_fields:
            value = environ.get(variable(name)) or environ.get(FALLBACKS.get(name, ""), "")
            if value:
                values[name] = value
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise invalid(exc) from None

    # -- derived --------------------------------------------------------------------------------

    @property
    def codehost_kind(self) -> Literal["github", "local"]:
        return self.codehost or ("github" if self.github_repo else "local")

    def run_command(self) -> list[str]:
        if self.local_run_command:
            return shlex.split(self.local_run_command)
        return [sys.executable, "-m", "retrain.cli.main", "run"]

    def github(self) -> GitHubSettings:
        """The GitHub code host's settings, credentials checked now."""
        key = self.github_app_private_key
        if key is None and self.github_app_private_key_file is not None:
            try:
                key = SecretStr(self.github_app_private_key_file.read_text(encoding="utf-8"))
            except OSError as exc:
                raise ConfigError(
                    f"RETRAIN_GITHUB_APP_PRIVATE_KEY_FILE: cannot read: {exc.strerror}"
                ) from None
        raw = {
            "repo": self.github_repo,
            "api_url": self.github_api_url,
            "token": self.github_token,
            "app_id": self.github_app_id,
            "app_installation_id": self.github_app_installation_id or None,
            "app_private_key": key,
            "bot_login": self.github_bot_login,
        }
        try:
            settings = GitHubSettings.model_validate(raw)
        except ValidationError as exc:
            raise invalid(exc, {name: f"github_{name}" for name in raw}) from None
        settings.check_auth()
        return settings

    def deploy(self, overrides: Mapping[str, Any] | None = None) -> DeployConfig:
        """The delivery configuration: these settings, then non-empty flags on top."""
        flags = {k: v for k, v in (overrides or {}).items() if v not in (None, "")}
        if "project" not in self.model_fields_set and "project" not in flags:
            raise ConfigError("no project: pass --project or set RETRAIN_PROJECT")
        values = {
            "project": self.project,
            "region": self.region,
            "git_sha": self.git_sha,
            "bucket": self.artifact_bucket,
            "image_repo": self.image_repo,
            "template_registry": self.template_registry,
            "github_repo": self.github_repo,
            "github_secret": self.github_secret,
            "time_zone": self.schedule_time_zone,
            **({"serving_image": self.serving_image} if self.serving_image else {}),
            **flags,
        }
        try:
            return DeployConfig.model_validate(values)
        except ValidationError as exc:
            raise invalid(
                exc, {"bucket": "artifact_bucket", "time_zone": "schedule_time_zone"}
            ) from None


EMULATOR_VARIABLES = ("PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")


def emulator_hosts() -> dict[str, str]:
    """The emulator endpoints set in this process's environment (the Google client libraries
    read these variables themselves); set explicitly, they win over a discovered local stack."""
    return {name: os.environ[name] for name in EMULATOR_VARIABLES if os.environ.get(name)}
