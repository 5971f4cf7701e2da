"""Git, read-only: which files changed between two revisions, and a file's text at a revision."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Protocol

from retrain.errors import ConfigError
from retrain.pipeline_env.compile import PIPELINE_CODE
from retrain.spec.load import spec_paths


class GitReader(Protocol):
    def changed_files(self, base: str, head: str) -> list[str]: ...

    def show(self, rev: str, path: str) -> str | None:
        """The file's text at `rev`, None when it did not exist there."""
        ...


class Git:
    """The real git, in a checkout."""

    def __init__(self, repo: Path) -> None:
        self._repo = repo

    def _git(self, *args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                ["git", "-C", str(self._repo), *args],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"git: {exc}") from exc

    def changed_files(self, base: str, head: str) -> list[str]:
        # base...head: what head changed since it forked from base (a PR's own changes).
        done = self._git("diff", "--name-only", "--no-renames", f"{base}...{head}")
        if done.returncode != 0:
            raise ConfigError(
                f"git cannot compare {base}...{head}: {done.stderr.strip()} "
                "(a shallow clone needs more history: fetch-depth 0)"
            )
        return [line for line in done.stdout.splitlines() if line]

    def show(self, rev: str, path: str) -> str | None:
        done = self._git("show", f"{rev}:{path}")
        if done.returncode != 0:
            if "does not exist" in done.stderr or "exists on disk, but not in" in done.stderr:
                return None
            raise ConfigError(f"git show {rev}:{path}: {done.stderr.strip()}")
        return done.stdout


def repo_spec_files(repo: Path, specs_dir: str) -> list[str]:
    """The spec files in `specs_dir` (as the spec loader lists them), relative to `repo`."""
    return sorted(str(p.relative_to(repo)) for p in spec_paths([repo / specs_dir]))


def touches_pipeline_code(path: str) -> bool:
    return any(path == entry or path.startswith(entry.rstrip("/") + "/") for entry in PIPELINE_CODE)


def changed_specs(
    changed: list[str], specs_dir: str, all_specs: list[str]
) -> tuple[list[str], str]:
    """Spec files (relative paths, out of `all_specs`) a change affects, and why. Pipeline code
    affects them all."""
    prefix = specs_dir.rstrip("/") + "/"
    code = sorted(p for p in changed if touches_pipeline_code(p))
    if code:
        return sorted(
            all_specs
        ), f"pipeline code changed ({code[0]}{', ...' if len(code) > 1 else ''})"
    present = set(all_specs)
    edited = sorted(p for p in changed if p.startswith(prefix) and p in present)
    return edited, "spec files changed" if edited else "no spec or pipeline change"
