"""Run a module of `pipelines/` in the pipeline environment (Python 3.10, TFX), from the service.

The two environments cannot share a process (TFX needs 3.10 and pins that conflict with the
service), so the service starts the pipeline environment's interpreter and streams its lines.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrain.errors import PipelineError

QUIET_TF = {"TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}


def find_repo_root(start: Path | None = None) -> Path:
    """The checkout we run from: the nearest ancestor of `start` (default: the working
    directory) with pipelines/ and pyproject.toml; the directory itself when there is none."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "pipelines").is_dir() and (candidate / "pyproject.toml").is_file():
            return candidate
    return here


@dataclass(frozen=True)
class PipelineEnv:
    """Where the checkout is and which interpreter runs `pipelines/` (built from the settings
    RETRAIN_REPO_ROOT and RETRAIN_PIPELINES_PYTHON by `retrain.wiring.build_pipeline_env`)."""

    repo_root: Path
    configured_python: Path | None = None

    @classmethod
    def found(cls, repo_root: Path | None = None, python: Path | None = None) -> PipelineEnv:
        """The checkout found from the working directory unless given; its .venv-pipelines."""
        return cls((repo_root or find_repo_root()).resolve(), python)

    @property
    def python(self) -> Path:
        path = self.configured_python or self.repo_root / ".venv-pipelines" / "bin" / "python"
        if not path.exists():
            raise PipelineError(
                f"pipeline environment not found at {path}; run `make setup` "
                "(or set RETRAIN_PIPELINES_PYTHON to a Python 3.10 with TFX 1.16)"
            )
        return path

    def run_module(
        self,
        module: str,
        args: Sequence[str],
        log_path: Path,
        on_line: Callable[[str], None] = lambda line: print(line, flush=True),
    ) -> list[str]:
        """Run `python -m module args` in the pipeline environment, from the checkout.

        Stdout lines go to `on_line` as they come and are returned; stderr (TensorFlow's
        chatter) goes to `log_path`. A failure raises PipelineError with the log's last lines.
        """
        return _run_module(self.python, self.repo_root, module, args, log_path, on_line)


def _run_module(
    python: Path,
    cwd: Path,
    module: str,
    args: Sequence[str],
    log_path: Path,
    on_line: Callable[[str], None],
) -> list[str]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **QUIET_TF}
    lines: list[str] = []
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(python), "-m", module, *args],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=cwd,
            env=env,
        )
        assert process.stdout is not None
        try:
            for raw in process.stdout:
                line = raw.rstrip("\n")
                lines.append(line)
                on_line(line)
            code = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait(timeout=30)
            raise
    if code != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise PipelineError(
            f"{module} failed (exit {code}); full log: {log_path}\n" + "\n".join(tail)
        )
    return lines


def echo(line: str) -> None:
    print(line, file=sys.stdout, flush=True)
