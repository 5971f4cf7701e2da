"""Shared test helpers: paths and a quick copy of example specs for TFX runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def fast_spec_copy(name: str, directory: Path, train_steps: int = 120) -> Path:
    """A copy of an example spec with fewer training steps, for quick real TFX runs."""
    text = (REPO / "specs" / f"{name}.yaml").read_text()
    text = re.sub(r"train_steps: \d+", f"train_steps: {train_steps}", text)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def repo_cwd(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root, as users do (data paths in specs are relative to it)."""
    monkeypatch.chdir(REPO)
    return REPO
