"""The service's configuration, read from RETRAIN_* environment variables at first use.

Never at import: a function instance imports, then reads its settings when the first event
arrives, so a bad value is reported as one clear ConfigError, not an import crash.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from retrain.errors import ConfigError

PREFIX = "RETRAIN_"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    specs_dir: Path = Field(default=Path("specs"), description="Directory of spec YAML files.")
    backend: Literal["local", "vertex"] = "local"
    state: Literal["firestore", "memory"] = Field(
        default="firestore", description="memory is for a single local process only."
    )
    state_prefix: str = Field(default="retrain", pattern=r"^[a-z][a-z0-9-]{0,40}$")
    project: str = Field(default="retrain-local", pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
    region: str = Field(default="us-central1", pattern=r"^[a-z]+-[a-z]+[0-9]$")
    git_sha: str = Field(default="", pattern=r"^([0-9a-f]{7,40})?$", description="Deployed commit.")
    completion_topic: str = "retrain-run-complete"
    # local backend
    workdir: Path = Path("work")
    local_run_command: str = Field(default="", description="Default: this Python's `retrain run`.")
    # vertex backend
    vertex_endpoint: str = Field(
        default="", description="api_endpoint override (tests: http://...)."
    )
    template_uri: str = Field(default="", description="May hold {spec}, {spec_version}, {git_sha}.")
    pipeline_root: str = ""
    service_account: str = ""

    @model_validator(mode="after")
    def _vertex_needs(self) -> Settings:
        if self.backend == "vertex":
            missing = [
                n for n in ("template_uri", "pipeline_root", "git_sha") if not getattr(self, n)
            ]
            if missing:
                names = ", ".join(PREFIX + n.upper() for n in missing)
                raise ValueError(f"RETRAIN_BACKEND=vertex needs {names}")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        values = {
            name: environ[PREFIX + name.upper()]
            for name in cls.model_fields
            if PREFIX + name.upper() in environ
        }
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{PREFIX}{str(e['loc'][0]).upper() if e['loc'] else ''}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(f"invalid settings: {problems}") from exc

    def run_command(self) -> list[str]:
        if self.local_run_command:
            return shlex.split(self.local_run_command)
        return [sys.executable, "-m", "retrain.cli.main", "run"]
