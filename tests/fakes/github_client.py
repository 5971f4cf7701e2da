"""PyGithub settings for talking to the fake GitHub fast, and the repo files it serves."""

from __future__ import annotations

from pathlib import Path

from retrain.codehost.config import GitHubSettings
from tests.fakes.github_server import FakeGitHub

TOKEN = "test-token-not-a-secret"
REPO_ROOT = Path(__file__).resolve().parents[2]


def spec_files() -> dict[str, str]:
    """The specs and their checked-in schemas, as on the repository's default branch."""
    return {
        f"specs/{name}{suffix}": (REPO_ROOT / "specs" / f"{name}{suffix}").read_text("utf-8")
        for name in ("churn", "house-prices")
        for suffix in (".yaml", ".schema.pbtxt")
    }


def settings_for(fake: FakeGitHub, **changes: object) -> GitHubSettings:
    """No pauses between requests and no backoff, but the same retry rules as production."""
    return GitHubSettings.model_validate(
        {
            "repo": "acme/models",
            "api_url": fake.base_url,
            "token": TOKEN,
            "backoff_factor": 0,
            "seconds_between_requests": 0,
            "seconds_between_writes": 0,
            **changes,
        }
    )
