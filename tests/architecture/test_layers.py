"""The architecture contract (`[tool.importlinter]` in pyproject.toml) holds for the code, and
fails, naming the contract, when a lower layer imports a higher one or a module outside the
Google wing imports a Google library."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the package under `root`/src with the project's contracts."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root / "src"), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the package and its contracts, to break on purpose."""
    shutil.copytree(
        REPO / "src" / "retrain",
        tmp_path / "src" / "retrain",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_contract(copy: Path) -> None:
    done = _lint(copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_an_upward_import_breaks_the_layers_contract(copy: Path) -> None:
    policy = copy / "src" / "retrain" / "routing" / "policy.py"
    policy.write_text(policy.read_text() + "\nfrom retrain.wiring import build_service  # noqa\n")
    done = _lint(copy)
    assert done.returncode != 0
    assert "Layers: entry points -> wiring" in done.stdout
    assert "retrain.routing is not allowed to import retrain.wiring" in done.stdout


def test_a_google_import_outside_the_wing_breaks_its_contract(copy: Path) -> None:
    runs = copy / "src" / "retrain" / "runs.py"
    runs.write_text(runs.read_text() + "\nfrom google.cloud import storage  # noqa\n")
    done = _lint(copy)
    assert done.returncode != 0
    assert "reached only from the Google wing" in done.stdout
    assert "retrain.runs" in done.stdout


def test_a_package_cycle_breaks_its_contract(copy: Path) -> None:
    """Two core packages importing each other: allowed by the layers (same core layer), caught
    by the acyclic contract."""
    spec = copy / "src" / "retrain" / "spec" / "model.py"
    spec.write_text(spec.read_text() + "\nimport retrain.events.fields  # noqa\n")
    events = copy / "src" / "retrain" / "events" / "fields.py"
    events.write_text(events.read_text() + "\nimport retrain.spec.model  # noqa\n")
    done = _lint(copy)
    assert done.returncode != 0
    assert "No import cycles between the packages of retrain BROKEN" in done.stdout
