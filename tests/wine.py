"""A checkout holding only the user's wine spec, its schema and its CSV (scikit-learn's data,
`tests/test_own_spec_setup.write_wine`): the fixture the own-spec tests start from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_own_spec_setup import write_wine


@pytest.fixture(scope="session")
def wine_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("wine")
    (repo / "specs").mkdir()
    write_wine(repo)
    return repo


@pytest.fixture
def wine_checkout(wine_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of `wine_repo`, the working directory and RETRAIN_REPO_ROOT of the test."""
    copy = tmp_path / "repo"
    shutil.copytree(wine_repo, copy)
    monkeypatch.chdir(copy)
    monkeypatch.setenv("RETRAIN_REPO_ROOT", str(copy))
    return copy
