"""Shared test helpers: paths, a quick copy of example specs for TFX runs, the emulators.

The fakes' fixtures (tests/fakes/fixtures.py) and the test tiers with the Hypothesis profiles
(tests/tiers.py) are plugins loaded from here.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrain.pipeline_env.process import PipelineEnv
from retrain.processes import procs

pytest_plugins = ["tests.fakes.fixtures", "tests.tiers", "tests.wine"]

REPO = Path(__file__).resolve().parents[1]
# The checkout's pipeline environment (.venv-pipelines), as `make setup` builds it.
PIPELINE_ENV = PipelineEnv.found(REPO)


def without_intervals(text: str) -> str:
    """A spec's text with `evaluation.confidence_level: null`: TFMA's bootstrap multiplies the
    Evaluator's time about 13-fold (docs/benchmarks.md), so real runs that test something else
    leave it out; tests/pipelines/test_intervals_run.py runs it."""
    assert "\nevaluation:\n" in text and "confidence_level" not in text
    return text.replace("\nevaluation:\n", "\nevaluation:\n  confidence_level: null\n", 1)


def fast_spec_copy(
    name: str, directory: Path, train_steps: int = 120, intervals: bool = False
) -> Path:
    """A copy of an example spec with fewer training steps, for quick real TFX runs (without
    confidence intervals unless asked)."""
    text = (REPO / "specs" / f"{name}.yaml").read_text()
    text = re.sub(r"train_steps: \d+", f"train_steps: {train_steps}", text)
    text = text if intervals else without_intervals(text)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(text)
    schema = f"{name}.schema.pbtxt"  # the checked-in schema the pipeline imports
    (directory / schema).write_text((REPO / "specs" / schema).read_text())
    return path


@pytest.fixture
def repo_cwd(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root, as users do (data paths in specs are relative to it)."""
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gcp-storage-emulator (PyPI) on 127.0.0.1, in memory; yields its http://host:port."""
    port = procs.free_port()
    log = Path(tmp_path_factory.mktemp("gcs")) / "emulator.log"
    argv = [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1",
            "--port", str(port), "--in-memory"]  # fmt: skip
    proc = procs.start("gcs-emulator", argv, port, log)
    try:
        proc.wait_ready(30)
        yield proc.url
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Firestore emulator (Google Cloud CLI) for one test module; yields its host:port."""
    from retrain.localstack.stack import start_firestore_emulator

    proc = start_firestore_emulator(tmp_path_factory.mktemp("firestore-logs"))
    try:
        yield f"127.0.0.1:{proc.port}"
    finally:
        proc.stop()
    assert not procs.port_open(proc.port)
