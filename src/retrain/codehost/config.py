"""The GitHub code host's slice of the settings: where and how it reaches GitHub. Built by
`retrain.settings.Settings.github()` from the RETRAIN_GITHUB_* variables."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from retrain.errors import ConfigError

GITHUB_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
GITHUB_API_URL = "https://api.github.com"  # PyGithub's Consts.DEFAULT_BASE_URL


def owner_repo(value: str) -> str:
    if value and not GITHUB_REPO.fullmatch(value):
        raise ValueError("a GitHub repository is owner/repo, e.g. acme/models")
    return value


class GitHubSettings(BaseModel):
    """Where and how the GitHub code host reaches GitHub (see `Settings.github`)."""

    model_config = ConfigDict(frozen=True)

    repo: str
    api_url: str = GITHUB_API_URL
    token: SecretStr | None = None
    app_id: str = ""
    app_installation_id: int | None = None
    app_private_key: SecretStr | None = None
    bot_login: str = ""
    retries: int = Field(default=5, ge=0)
    backoff_factor: float = Field(default=1.0, ge=0)
    max_rate_limit_wait: float = Field(default=60.0, ge=0)
    timeout: int = Field(default=15, ge=1, description="Per request, s (PyGithub's default).")
    seconds_between_requests: float = Field(default=0.25, ge=0)
    seconds_between_writes: float = Field(default=1.0, ge=0)

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not value:
            raise ValueError("no GitHub repository: set owner/repo")
        return owner_repo(value)

    @property
    def uses_app(self) -> bool:
        return bool(self.app_id or self.app_installation_id or self.app_private_key)

    def check_auth(self) -> None:
        """Fail at start-up, not at the first comment."""
        if self.uses_app:
            if not (self.app_id and self.app_installation_id and self.app_private_key):
                raise ConfigError(
                    "GitHub App auth needs RETRAIN_GITHUB_APP_ID, "
                    "RETRAIN_GITHUB_APP_INSTALLATION_ID and RETRAIN_GITHUB_APP_PRIVATE_KEY"
                    " (or RETRAIN_GITHUB_APP_PRIVATE_KEY_FILE)"
                )
        elif self.token is None:
            raise ConfigError(
                "no GitHub credentials: set RETRAIN_GITHUB_TOKEN (or GITHUB_TOKEN), or the "
                "RETRAIN_GITHUB_APP_* variables"
            )
