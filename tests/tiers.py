"""The test tiers and the Hypothesis profiles (a pytest plugin, listed in tests/conftest.py).

`make quick` runs every test that starts no TFX process, no emulator (Pub/Sub, Firestore, GCS,
the local stack) and no browser; `make test` runs them all. A test says what it starts with a
marker (`tfx`, `emulator`, `browser`): `emulator` is added here to every test that uses an
emulator or stack fixture; modules that run TFX, the demo or chromium set `pytestmark`. A test
that starts one of them without its marker fails, in either tier (`_Tripwire`), so a new slow
test cannot slip into the quick tier unnoticed.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]

# -- Hypothesis: `full` (make test, CI, plain pytest) keeps today's counts; `quick` (make quick)
# runs a tenth of them. Tests take their count from the profile (settings().max_examples).
settings.register_profile("full", max_examples=300)
settings.register_profile("quick", max_examples=30)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "full"))

# -- Tiers --------------------------------------------------------------------------------------
TIER_MARKS = frozenset({"tfx", "emulator", "browser"})
EMULATOR_FIXTURES = frozenset({"gcs_emulator", "firestore_emulator", "stack"})


def starts_an_emulator(fixturenames: Iterable[str]) -> bool:
    """Whether a test's fixtures (their whole closure) start an emulator or a local stack."""
    return any(name in EMULATOR_FIXTURES or name.endswith("_stack") for name in fixturenames)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if starts_an_emulator(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.emulator)


def needs(argv: list[str], pipelines_python: set[str]) -> dict[str, str]:
    """The tier markers a process started with `argv` needs: marker -> what it is."""
    found: dict[str, str] = {}
    names = [os.path.basename(word) for word in argv]
    if "gcloud" in names and "emulators" in argv:
        found["emulator"] = "a Google Cloud emulator"
    if "gcp_storage_emulator" in argv:
        found["emulator"] = "the GCS emulator"
    if "functions_framework" in argv:
        found["emulator"] = "a function server of the local stack"
    if argv and os.path.abspath(argv[0]) in pipelines_python:
        found["tfx"] = "the pipeline environment (TFX)"
    if names and names[0] in {"chromium", "chromium-browser", "chrome", "google-chrome"}:
        found["browser"] = "chromium"
    if any("playwright" in word for word in argv):
        found["browser"] = "Playwright (chromium)"
    for i, word in enumerate(argv):
        if names[i] == "retrain" or word in {"retrain.cli.main", "retrain.cli"}:
            command = next((w for w in argv[i + 1 :] if not w.startswith("-")), "")
            if {"-h", "--help"} & set(argv):
                break
            if command == "up":
                found["emulator"] = "`retrain up` (the local stack)"
            if command == "demo":
                found["emulator"] = found["tfx"] = "`retrain demo` (the stack and TFX runs)"
            break
    return found


def _argv(raw: Any) -> list[str]:
    """Popen's `args` as words: a list, one program, or a shell command line."""
    if isinstance(raw, os.PathLike):
        return [os.fsdecode(raw)]
    if isinstance(raw, (str, bytes)):
        try:
            return shlex.split(os.fsdecode(raw))
        except ValueError:
            return [os.fsdecode(raw)]
    return [os.fsdecode(word) for word in raw]


class _Tripwire:
    """While a test runs (setup, call, teardown), a process it starts must be covered by the
    test's markers: an audit hook refuses the process and fails the test otherwise. A test
    without `tfx` also gets a pipeline Python that does not exist, so TFX started by a `retrain`
    subprocess fails too, naming the marker."""

    def __init__(self) -> None:
        self.item: pytest.Item | None = None
        self.marks: frozenset[str] = frozenset()
        self.violations: list[str] = []
        configured = os.environ.get("RETRAIN_PIPELINES_PYTHON", "")
        candidates = [str(REPO / ".venv-pipelines" / "bin" / "python"), configured]
        self.pipelines_python = {os.path.abspath(p) for p in candidates if p}

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event != "subprocess.Popen" or self.item is None:
            return
        argv = _argv(args[1])
        missing = {
            m: what for m, what in needs(argv, self.pipelines_python).items() if m not in self.marks
        }
        if missing:
            marks = ", ".join(f"@pytest.mark.{m}" for m in sorted(missing))
            message = (
                f"{self.item.nodeid} starts {'; '.join(sorted(set(missing.values())))} "
                f"without {marks} (tests/tiers.py explains the tiers): {shlex.join(argv)[:200]}"
            )
            self.violations.append(message)
            raise RuntimeError(message)


TRIPWIRE = _Tripwire()
sys.addaudithook(TRIPWIRE.audit)
NO_PIPELINE_ENV = REPO / "build" / "no-pipeline-env--mark-the-test-tfx" / "bin" / "python"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    TRIPWIRE.item, TRIPWIRE.violations = item, []
    TRIPWIRE.marks = frozenset(m.name for m in item.iter_markers()) & TIER_MARKS
    saved = os.environ.get("RETRAIN_PIPELINES_PYTHON")
    if "tfx" not in TRIPWIRE.marks:
        os.environ["RETRAIN_PIPELINES_PYTHON"] = str(NO_PIPELINE_ENV)
    try:
        yield
    finally:
        TRIPWIRE.item = None
        if saved is None:
            os.environ.pop("RETRAIN_PIPELINES_PYTHON", None)
        else:
            os.environ["RETRAIN_PIPELINES_PYTHON"] = saved


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if TRIPWIRE.violations:
        if report.passed:  # refused, but the test went on regardless
            report.outcome = "failed"
            report.longrepr = "\n".join(TRIPWIRE.violations)
        TRIPWIRE.violations = []
