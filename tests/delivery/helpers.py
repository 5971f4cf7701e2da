"""Shared by the delivery tests: paths, a deploy config, the installed CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from retrain.delivery.config import DeployConfig

REPO = Path(__file__).resolve().parents[2]
RETRAIN = REPO / ".venv" / "bin" / "retrain"
SHA = "0123456789abcdef0123456789abcdef01234567"


def config(**values: str) -> DeployConfig:
    return DeployConfig.model_validate({"project": "acme-prod", "git_sha": SHA, **values})


def retrain(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI the way Cloud Build and the workflows do."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RETRAIN_")}
    full_env.update(env or {})
    return subprocess.run(
        [str(RETRAIN), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )
